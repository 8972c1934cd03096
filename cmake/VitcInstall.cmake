# The vitc SDK: what `cmake --install` puts under a prefix, and the CMake
# package and pkg-config file an application finds it by.
#
#   bin/                      vitc, vitc-opt, vitc-run                (tools)
#   lib/                      libvitc_runtime.so, libvitc_train.so    (runtime)
#   include/                  vitc_runtime.h, vitc_train.h: the C API (development)
#   lib/cmake/vitc/           vitcConfig.cmake, vitcConfigVersion.cmake,
#                             vitcTargets.cmake (vitc::runtime, vitc::train),
#                             vitcToolTargets.cmake (vitc::vitc, vitc::vitc-run, ...)
#   lib/pkgconfig/            vitc.pc (runtime), vitc-train.pc
#   lib/python/vitc/          the Python binding (PYTHONPATH=<prefix>/lib/python)
#   share/vitc/examples/      the examples/ projects and their small models
#   share/doc/vitc/           README.md, architecture.md
#
# The two libraries are shared objects: an application links one or two
# .so files and nothing else. Their dependencies (oneDNN, protobuf-lite
# linked in statically and hidden, MPI, NCCL, zlib, libdl) are private: they
# are the libraries' own DT_NEEDED entries, found through the system's
# library path or the libraries' RUNPATH, so the package needs no
# find_dependency. Every path in the package is relative to the prefix
# (RPATHs are $ORIGIN-relative, the config and pkg-config files compute the
# prefix from where they lie): the prefix can be moved or copied.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(VITC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/vitc)
set(VITC_INSTALL_EXAMPLESDIR ${CMAKE_INSTALL_DATADIR}/vitc/examples)
# lib/ as seen from bin/ ("../lib"), for the tools' RPATH.
file(RELATIVE_PATH _vitc_bin_to_lib
  /prefix/${CMAKE_INSTALL_BINDIR} /prefix/${CMAKE_INSTALL_LIBDIR})

# --- Libraries -----------------------------------------------------------------
# vitc::runtime and vitc::train. libvitc_train finds libvitc_runtime next to
# itself; external libraries outside the system's default directories (MPI's,
# the CUDA toolkit's NCCL) keep their directories in the RPATH
# (INSTALL_RPATH_USE_LINK_PATH), as the build tree's RPATH has them.
set_target_properties(vitc_runtime PROPERTIES
  EXPORT_NAME runtime
  INSTALL_RPATH_USE_LINK_PATH ON)
set_target_properties(vitc_train PROPERTIES
  EXPORT_NAME train
  INSTALL_RPATH "$ORIGIN"
  INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS vitc_runtime vitc_train
  EXPORT vitcTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The C API only: runtime/include/vitc/ holds internal C++ headers.
install(FILES
  ${VITC_SOURCE_DIR}/runtime/include/vitc_runtime.h
  ${VITC_SOURCE_DIR}/runtime/include/vitc_train.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)

# --- Tools ---------------------------------------------------------------------
# vitc-run links the two libraries ($ORIGIN/../lib); vitc and vitc-opt link
# libMLIR/libLLVM, whose directory (/usr/lib/llvm-22/lib) stays in their RPATH.
set_target_properties(vitc-run PROPERTIES
  INSTALL_RPATH "$ORIGIN/${_vitc_bin_to_lib}"
  INSTALL_RPATH_USE_LINK_PATH ON)
set_target_properties(vitc vitc-opt PROPERTIES
  INSTALL_RPATH_USE_LINK_PATH ON)
# Imported as vitc::vitc, vitc::vitc-opt, vitc::vitc-run (e.g. to compile a
# model at build time: add_custom_command(... COMMAND vitc::vitc ...)); a
# file of their own, so that a prefix without the tools component still
# loads the package.
install(TARGETS vitc vitc-opt vitc-run
  EXPORT vitcToolTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)

# --- CMake package -------------------------------------------------------------
install(EXPORT vitcTargets
  NAMESPACE vitc::
  FILE vitcTargets.cmake
  DESTINATION ${VITC_INSTALL_CMAKEDIR} COMPONENT development)
install(EXPORT vitcToolTargets
  NAMESPACE vitc::
  FILE vitcToolTargets.cmake
  DESTINATION ${VITC_INSTALL_CMAKEDIR} COMPONENT tools)
configure_package_config_file(
  ${VITC_SOURCE_DIR}/cmake/vitcConfig.cmake.in
  ${VITC_BINARY_DIR}/cmake/vitcConfig.cmake
  INSTALL_DESTINATION ${VITC_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_BINDIR VITC_INSTALL_EXAMPLESDIR)
# 0.x: an artifact, its compiler and its runtime must agree on the minor
# version (the artifact format moves with it).
write_basic_package_version_file(
  ${VITC_BINARY_DIR}/cmake/vitcConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${VITC_BINARY_DIR}/cmake/vitcConfig.cmake
  ${VITC_BINARY_DIR}/cmake/vitcConfigVersion.cmake
  DESTINATION ${VITC_INSTALL_CMAKEDIR} COMPONENT development)

# --- pkg-config ----------------------------------------------------------------
# prefix is computed from the .pc file's own directory (${pcfiledir}).
file(RELATIVE_PATH VITC_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" VITC_PC_TO_PREFIX "${VITC_PC_TO_PREFIX}")
foreach(pc vitc vitc-train)
  configure_file(${VITC_SOURCE_DIR}/cmake/${pc}.pc.in
    ${VITC_BINARY_DIR}/cmake/${pc}.pc @ONLY)
  install(FILES ${VITC_BINARY_DIR}/cmake/${pc}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
endforeach()

# --- Python binding ------------------------------------------------------------
# Pure Python over libvitc_runtime.so (ctypes): nothing to compile, found
# by the package at ../.. of itself, so it moves with the prefix.
install(DIRECTORY ${VITC_SOURCE_DIR}/runtime/python/vitc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/python COMPONENT runtime
  PATTERN "__pycache__" EXCLUDE)

# --- Examples and docs ---------------------------------------------------------
install(DIRECTORY ${VITC_SOURCE_DIR}/examples/
  DESTINATION ${VITC_INSTALL_EXAMPLESDIR} COMPONENT development
  PATTERN "build" EXCLUDE)
# The models the examples use (1.1 MB), so that they run from the prefix alone.
install(FILES
  ${VITC_SOURCE_DIR}/models/cnn_bn.onnx
  ${VITC_SOURCE_DIR}/models/cnn_bn_train.onnx
  ${VITC_SOURCE_DIR}/models/vit_tiny.onnx
  DESTINATION ${VITC_INSTALL_EXAMPLESDIR}/models COMPONENT development)
install(FILES
  ${VITC_SOURCE_DIR}/README.md
  ${VITC_SOURCE_DIR}/docs/architecture.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT development)
