# relay_tool(NAME SOURCES...): one program of the toolkit, linked with the common library.
function(relay_tool name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE relay_common)
  install(TARGETS ${name} DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()
