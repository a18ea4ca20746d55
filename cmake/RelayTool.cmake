# relay_tool(NAME SOURCES...): one program of the toolkit. Its sources other than main.cpp
# form the library NAME-parts (linked with relay_common), which the unit tests of
# tests/unit/NAME link too: a program's logic is tested without cutting out its main().
function(relay_tool name)
  set(parts ${ARGN})
  list(FILTER parts EXCLUDE REGEX "(^|/)main\\.cpp$")
  if(parts)
    add_library(${name}-parts STATIC ${parts})
    target_include_directories(${name}-parts PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(${name}-parts PUBLIC relay_common)
    add_executable(${name} main.cpp)
    target_link_libraries(${name} PRIVATE ${name}-parts)
  else()
    add_executable(${name} ${ARGN})
    target_link_libraries(${name} PRIVATE relay_common)
  endif()
  install(TARGETS ${name} DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()
