# Compiles SRC with -Werror and checks that it fails exactly where it should:
# every line marked "// MISUSE" has an error whose text matches EXPECT, and no
# other line of SRC has an error. Run as
#   cmake -DCXX=... -DSRC=... -DINCLUDES="a;b" -DEXPECT=regex [-DFLAGS="..."] -P compile_checks.cmake
file(STRINGS ${SRC} lines)
set(expected "")
set(n 0)
foreach(line IN LISTS lines)
  math(EXPR n "${n} + 1")
  if(line MATCHES "// MISUSE")
    list(APPEND expected ${n})
  endif()
endforeach()
list(LENGTH expected count)
if(count EQUAL 0)
  message(FATAL_ERROR "${SRC} marks no MISUSE line")
endif()

set(include_flags "")
foreach(dir IN LISTS INCLUDES)
  list(APPEND include_flags "-I${dir}")
endforeach()
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Werror ${FLAGS} ${include_flags} ${SRC}
  RESULT_VARIABLE rc ERROR_VARIABLE out OUTPUT_VARIABLE out2)
string(APPEND out "${out2}")
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled, but each MISUSE line should be an error")
endif()

get_filename_component(name ${SRC} NAME)
string(REPLACE "." "\\." name_re "${name}")
set(failed "")
foreach(n IN LISTS expected)
  if(NOT out MATCHES "${name_re}:${n}:[0-9]+: error: [^\n]*${EXPECT}")
    list(APPEND failed ${n})
  endif()
endforeach()
# Errors on lines that are not marked (a broken check, or correct code rejected).
string(REGEX MATCHALL "${name_re}:[0-9]+:[0-9]+: error:" errors "${out}")
set(unexpected "")
foreach(e IN LISTS errors)
  string(REGEX REPLACE "^.*:([0-9]+):[0-9]+: error:$" "\\1" line "${e}")
  list(FIND expected ${line} at)
  if(at EQUAL -1)
    list(APPEND unexpected ${line})
  endif()
endforeach()
if(failed OR unexpected)
  message(FATAL_ERROR "${name}: no matching error on MISUSE lines [${failed}]; "
                      "errors on unmarked lines [${unexpected}]\n${out}")
endif()
message(STATUS "${name}: all ${count} MISUSE lines are errors, nothing else is")
