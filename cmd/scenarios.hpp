#pragma once
// The scenario factories, one per file of cmd/.

#include "scenario.hpp"

namespace demo {

Scenario countasync_scenario();

}  // namespace demo
