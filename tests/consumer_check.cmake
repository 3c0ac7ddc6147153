# Installs the build tree's aio into a scratch prefix, builds tests/consumer
# against it with find_package(aio), runs it, and checks that the package's
# -Werror=return-type reaches the consumer (forgot_co_return.cpp must fail).
#   cmake -DBUILD=... -DSOURCE=... -DWORK=... -DCXX=... -DCXXFLAGS=... -P consumer_check.cmake
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE}/tests/consumer -B ${WORK}/build -G Ninja
          -DCMAKE_PREFIX_PATH=${WORK}/prefix -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXXFLAGS}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed:\n${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build --target aio_consumer
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed:\n${out}")
endif()
execute_process(COMMAND ${WORK}/build/aio_consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "gathered 3 results: 1 2 3")
  message(FATAL_ERROR "the consumer did not run as expected (${rc}):\n${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build --target aio_consumer_forgot_co_return
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
# g++: "error: no return statement in function returning non-void [-Werror=return-type]";
# clang: "error: non-void lambda does not return a value [-Werror,-Wreturn-type]".
if(rc EQUAL 0 OR NOT out MATCHES "forgot_co_return\\.cpp:[0-9]+:[0-9]+: error: [^\n]*-Werror[=,]-?W?return-type")
  message(FATAL_ERROR "a TaskGroup body without co_return should not compile for a consumer:\n${out}")
endif()
message(STATUS "consumer built and ran; a missing co_return is an error for it")
file(REMOVE_RECURSE ${WORK})
