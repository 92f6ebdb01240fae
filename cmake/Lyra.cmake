# Build helpers shared by every part of the tree.

# lyra_add_component(NAME SOURCES src... [LIBS lib...] [OS_ADAPTER])
# Builds the component twice from the same objects: a static library
# lyra_c_NAME (for static assemblies and unit tests) and a module
# build/lib/lyra/lyra_NAME.so (for dlopen). Components see the framework's
# headers only: they call each other through bound ops tables.
set_property(GLOBAL PROPERTY LYRA_COMPONENTS "")
function(lyra_add_component NAME)
  cmake_parse_arguments(A "OS_ADAPTER" "" "SOURCES;LIBS" ${ARGN})
  add_library(lyra_obj_${NAME} OBJECT ${A_SOURCES})
  target_link_libraries(lyra_obj_${NAME} PUBLIC lyra_headers)
  target_include_directories(lyra_obj_${NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  add_library(lyra_c_${NAME} STATIC $<TARGET_OBJECTS:lyra_obj_${NAME}>)
  target_link_libraries(lyra_c_${NAME} PUBLIC lyra_headers ${A_LIBS})
  target_include_directories(lyra_c_${NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  add_library(lyra_${NAME} MODULE $<TARGET_OBJECTS:lyra_obj_${NAME}>)
  target_link_libraries(lyra_${NAME} PRIVATE ${A_LIBS})
  set_target_properties(lyra_${NAME} PROPERTIES PREFIX "" OUTPUT_NAME lyra_${NAME}
                        LIBRARY_OUTPUT_DIRECTORY ${LYRA_COMPONENT_DIR})
  if(NOT A_OS_ADAPTER)
    # Components must not need anything at load time that they do not name.
    target_link_options(lyra_${NAME} PRIVATE -Wl,--no-undefined)
  endif()
  install(TARGETS lyra_${NAME} LIBRARY DESTINATION lib/lyra)
  set_property(GLOBAL APPEND PROPERTY LYRA_COMPONENTS ${NAME})
endfunction()

# lyra_add_test(NAME SOURCES src... [LIBS lib...])
# A Criterion test executable in build/tests, registered with ctest.
function(lyra_add_test NAME)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${NAME} ${A_SOURCES})
  target_link_libraries(${NAME} PRIVATE ${A_LIBS} lyra_test_support criterion)
  set_target_properties(${NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${NAME} COMMAND ${NAME} --jobs 1)
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  set_tests_properties(${NAME} PROPERTIES TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "LYRA_COMPONENT_PATH=${LYRA_COMPONENT_DIR};LYRA_SOURCE_DIR=${CMAKE_SOURCE_DIR};LYRA_BUILD_DIR=${CMAKE_BINARY_DIR}")
endfunction()
