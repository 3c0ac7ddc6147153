#pragma once
// The scenario factories, one per file of cmd/.

#include "scenario.hpp"

namespace demo {

Scenario countasync_scenario();
Scenario asyncq_scenario();
Scenario blocking_scenario();
Scenario wait_for_scenario();
Scenario loop_overhead_scenario();
Scenario async_context_scenario();
#ifdef AIO_DEMO_NET
Scenario echo_server_scenario();
Scenario echo_client_scenario();
#endif

}  // namespace demo
