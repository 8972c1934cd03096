//===- CollectivesTest.h - shared by the collectives test's files -*- C++ -*-===//
//
// vitc-collectives-test: CollectivesTest.cpp has the checks, the fault
// modes and main; NcclStaged.cpp runs the same suite on the NCCL
// communicator through host-device staging.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TESTS_COLLECTIVESTEST_H
#define VITC_TESTS_COLLECTIVESTEST_H

#include "vitc/collectives/Communicator.h"

#include <string>

namespace vitc::coll::test {

struct Args {
  bool nccl = false, expectGpu = false;
  bool single = false, check = false;
  double timeout = 60;
  std::string fault;
  int faultRank = 1;
};

/// Checks run and failed so far on this rank.
extern int gChecks, gFailures;

/// Every collective against references on `comm`.
void runSuite(Communicator &comm);

/// The NCCL communicator on device 0, a world of one bootstrapped by the
/// single communicator (NcclStaged.cpp).
int runNccl(const Args &args);

} // namespace vitc::coll::test

#endif // VITC_TESTS_COLLECTIVESTEST_H
