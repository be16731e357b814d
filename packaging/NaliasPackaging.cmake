# SPDX-License-Identifier: BSD-2-Clause
#
# Packaging: man pages and documentation install rules, and the CPack setup
# behind `cpack -G DEB` (and TGZ).  Included once, at the end of the
# top-level CMakeLists.txt, after every install() rule is known.
#
# The package installs under CMAKE_INSTALL_PREFIX, the prefix the pkg-config
# file and the sample path were configured with, so that the .deb is
# consistent with them: configure with -DCMAKE_INSTALL_PREFIX=/usr for a
# system package (GNUInstallDirs then picks the multiarch libdir).
#
# Components: runtime (libalias.so.7), dev (headers, libalias.so, .pc, CMake
# config, libalias.3), tools (alias-replay, its man page, the sample).  The
# .deb carries them all, as one package named nalias.

install(FILES ${PROJECT_SOURCE_DIR}/docs/man/libalias.3
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man3 COMPONENT dev)
if(TARGET alias-replay)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/man/alias-replay.1
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
endif()
set(NALIAS_DOCS ${PROJECT_SOURCE_DIR}/docs/migrating.md ${PROJECT_SOURCE_DIR}/LICENSE)
foreach(doc architecture.md differences.md handlers.md ipsec.md natd-on-linux.md)  # installed when present
  if(EXISTS ${PROJECT_SOURCE_DIR}/docs/${doc})
    list(APPEND NALIAS_DOCS ${PROJECT_SOURCE_DIR}/docs/${doc})
  endif()
endforeach()
install(FILES ${NALIAS_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

set(CPACK_PACKAGE_NAME "nalias")
set(CPACK_PACKAGE_VENDOR "nalias")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "drop-in replacement for FreeBSD's libalias (libalias.so.7)")
set(CPACK_PACKAGE_DESCRIPTION
  "nalias is an ABI-compatible replacement for FreeBSD's packet aliasing library, the NAT engine behind natd, ppp and ipfw nat. This package holds libalias.so.7, the headers alias.h and alias_mod.h, pkg-config and CMake files, the libalias(3) manual, and alias-replay, which replays a pcap capture through the library.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/" "/\\\\.git/")
set(CPACK_STRIP_FILES ON)  # as Debian ships binaries; the exported symbols stay for backtraces

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "nalias maintainers <nalias@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Library dependencies from dpkg-shlibdeps; a shlibs file (and the ldconfig
# trigger) so that packages built against it depend on it in turn.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/lib)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_PACKAGE_PROVIDES "libalias7")
# Refresh the loader cache on install and removal, as Debian's shared library packages do.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/triggers)

include(CPack)
