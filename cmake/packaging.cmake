# The Debian package `linebridge`:  (cd build && cpack -G DEB)
# dpkg-shlibdeps computes the runtime dependencies from the binaries; the
# maintainer scripts in deploy/debian create the `linebridge` system user and
# /var/lib/linebridge, and enable, start, restart and stop the systemd unit.
# docs/deployment.md describes the installed system.
# Installing and packaging build nothing: the package holds linebridged and
# linectl only, so `scripts/build.sh release linebridged linectl` is enough
# before `cpack` (instead of every test and benchmark).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "linebridge")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "linebridge")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "remote telephony server with a TAPI-like gRPC API")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_PACKAGE_FILE_NAME_IS_DEFAULT OFF)
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")  # linebridge_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_NAME "linebridge")
set(CPACK_DEBIAN_PACKAGE_RELEASE "1")
set(CPACK_DEBIAN_PACKAGE_SECTION "comm")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "linebridge maintainers <linebridge@localhost>")
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; cpack indents these lines
# and turns the empty one into " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"linebridged serves telephone lines (simulated PBX lines, serial modems) and
their calls to remote clients over gRPC: line and call control, events,
call-detail records. linectl is its command-line client and admin tool.

The package runs linebridged as the systemd service linebridged.service
under the system user linebridge, with its configuration in /etc/linebridge
and its state in /var/lib/linebridge.")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The maintainer scripts use adduser; deb-systemd-helper and start-stop-daemon
# come with essential packages.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles
  ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
  ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
  ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
