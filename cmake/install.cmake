# What `cmake --install` and the Debian package put where:
#   bin/linebridged, bin/linectl
#   /etc/linebridge/linebridged.textproto   (the example configuration, with
#                                            data_dir /var/lib/linebridge)
#   /lib/systemd/system/linebridged.service (the unit from deploy/systemd)
#   share/doc/linebridge/                   (README and the operator docs)
include(GNUInstallDirs)

# The unit names the daemon by absolute path; the package installs it to
# /usr/bin. Set this to <prefix>/bin when installing elsewhere by hand.
set(LINEBRIDGE_UNIT_BINDIR "/usr/bin" CACHE STRING
  "Directory the installed systemd unit runs linebridged and linectl from")
set(LINEBRIDGE_CONFIG_DIR "/etc/linebridge" CACHE STRING
  "Directory of linebridged.textproto (the unit's --config)")
set(LINEBRIDGE_SYSTEMD_UNIT_DIR "/lib/systemd/system" CACHE STRING
  "Directory the systemd unit is installed to")

install(TARGETS linebridged RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET linectl)
  install(TARGETS linectl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# The unit with the binaries' installed path.
file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/linebridged.service _lb_unit)
string(REPLACE "/usr/local/bin/" "${LINEBRIDGE_UNIT_BINDIR}/" _lb_unit "${_lb_unit}")
file(WRITE ${PROJECT_BINARY_DIR}/install/linebridged.service "${_lb_unit}")
install(FILES ${PROJECT_BINARY_DIR}/install/linebridged.service
  DESTINATION ${LINEBRIDGE_SYSTEMD_UNIT_DIR})

# The example configuration as the system one, keeping its state where the
# unit (and the package's postinst) put it.
file(READ ${PROJECT_SOURCE_DIR}/server/config/linebridged.example.textproto _lb_conf)
string(REPLACE "data_dir: \"./linebridge-data\"" "data_dir: \"/var/lib/linebridge\""
  _lb_conf "${_lb_conf}")
string(FIND "${_lb_conf}" "data_dir: \"/var/lib/linebridge\"" _lb_found)
if(_lb_found EQUAL -1)
  message(FATAL_ERROR "install.cmake: data_dir not found in the example configuration")
endif()
file(WRITE ${PROJECT_BINARY_DIR}/install/linebridged.textproto "${_lb_conf}")
install(FILES ${PROJECT_BINARY_DIR}/install/linebridged.textproto
  DESTINATION ${LINEBRIDGE_CONFIG_DIR})

install(FILES README.md docs/deployment.md docs/configuration.md docs/linectl.md
  docs/security.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
