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
  set_property(GLOBAL APPEND PROPERTY LYRA_COMPONENTS ${NAME})
  if(LYRA_EMBEDDED)
    return() # static only: a target has no dlopen
  endif()
  add_library(lyra_${NAME} MODULE $<TARGET_OBJECTS:lyra_obj_${NAME}>)
  target_link_libraries(lyra_${NAME} PRIVATE ${A_LIBS})
  set_target_properties(lyra_${NAME} PROPERTIES PREFIX "" OUTPUT_NAME lyra_${NAME}
                        LIBRARY_OUTPUT_DIRECTORY ${LYRA_COMPONENT_DIR})
  # (clang's sanitizer runtime is resolved at load time: skip the check there)
  if(NOT A_OS_ADAPTER AND NOT LYRA_SANITIZE AND NOT LYRA_FUZZ)
    # Components must not need anything at load time that they do not name.
    target_link_options(lyra_${NAME} PRIVATE -Wl,--no-undefined)
  endif()
  install(TARGETS lyra_${NAME} LIBRARY DESTINATION lib/lyra)
endfunction()

# lyra_add_test(NAME SOURCES src... [LIBS lib...] [TIMEOUT s] [FILTER pattern])
# A Criterion test executable in build/tests, registered with ctest (only
# the cases matching FILTER, Criterion's --filter, when given).
function(lyra_add_test NAME)
  cmake_parse_arguments(A "" "TIMEOUT;FILTER" "SOURCES;LIBS" ${ARGN})
  # lyra_test_main's objects (tests/CMakeLists.txt), compiled once for all
  add_executable(${NAME} ${A_SOURCES} $<TARGET_OBJECTS:lyra_test_main>)
  target_link_libraries(${NAME} PRIVATE ${A_LIBS} lyra_test_support criterion)
  set_target_properties(${NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  lyra_register_test(${NAME} ${NAME} "${A_FILTER}" "${A_TIMEOUT}")
endfunction()

# lyra_register_test(TEST EXE FILTER TIMEOUT [JOBS]): ctest entry TEST
# running Criterion executable EXE (the cases matching FILTER when not
# empty), JOBS cases at once (default 1), with the timeout (default 120 s),
# the skip code and the directories' variables.
function(lyra_register_test TEST EXE FILTER TIMEOUT)
  set(jobs 1)
  if(ARGC GREATER 4 AND ARGV4)
    set(jobs ${ARGV4})
  endif()
  set(args --jobs ${jobs})
  if(FILTER)
    list(APPEND args --filter ${FILTER})
  endif()
  add_test(NAME ${TEST} COMMAND ${EXE} ${args})
  if(NOT TIMEOUT)
    set(TIMEOUT 120)
  endif()
  set_tests_properties(${TEST} PROPERTIES TIMEOUT ${TIMEOUT} SKIP_RETURN_CODE 77
    ENVIRONMENT "LYRA_COMPONENT_PATH=${LYRA_COMPONENT_DIR};LYRA_SOURCE_DIR=${CMAKE_SOURCE_DIR};LYRA_BUILD_DIR=${CMAKE_BINARY_DIR}")
endfunction()

# lyra_add_test_part(NAME PART FILTER pattern [TIMEOUT s] [JOBS n])
# A second ctest entry, NAME_PART, for the cases of test NAME's executable
# matching FILTER: long cases of one file run beside each other under
# ctest -j instead of one after another. JOBS: cases run at once inside the
# entry (Criterion --jobs), for cases that mostly wait: they then hold one
# of ctest's slots, not one each, so the other slot keeps a core busy.
# Labels are NAME's.
function(lyra_add_test_part NAME PART)
  cmake_parse_arguments(A "" "TIMEOUT;FILTER;JOBS" "" ${ARGN})
  lyra_register_test(${NAME}_${PART} ${NAME} "${A_FILTER}" "${A_TIMEOUT}" "${A_JOBS}")
  get_test_property(${NAME} LABELS labels)
  if(labels)
    set_tests_properties(${NAME}_${PART} PROPERTIES LABELS "${labels}")
  endif()
endfunction()

# lyra_add_assembly(NAME MANIFEST FILE)
# Generates C from the manifest at build time (a bad manifest fails the
# build with FILE:LINE errors), links only the components it names, and
# builds build/bin/lyra-NAME plus a library lyra_asm_NAME exporting
# lyra_assembly_NAME_create() for applications. Neither contains the
# manifest parser nor dlopen.
function(lyra_add_assembly NAME)
  cmake_parse_arguments(A "" "MANIFEST" "" ${ARGN})
  if(NOT A_MANIFEST)
    message(FATAL_ERROR "lyra_add_assembly(${NAME}): MANIFEST FILE is required")
  endif()
  get_filename_component(mf ${A_MANIFEST} ABSOLUTE)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${mf})
  # Components named by the manifest: link those and nothing else.
  file(STRINGS ${mf} lines REGEX "^[ \t]*component[ \t]*=")
  set(libs "")
  set(mods "")
  foreach(l ${lines})
    string(REGEX REPLACE "^[ \t]*component[ \t]*=[ \t]*([A-Za-z0-9_]+).*" "\\1" c "${l}")
    if(TARGET lyra_c_${c})
      list(APPEND libs lyra_c_${c})
      list(APPEND mods lyra_${c})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES libs)
  get_property(all GLOBAL PROPERTY LYRA_COMPONENTS)
  set(all_mods "")
  foreach(c ${all})
    list(APPEND all_mods lyra_${c})
  endforeach()
  string(REPLACE "-" "_" id ${NAME})
  set(out_asm ${CMAKE_CURRENT_BINARY_DIR}/lyra_asm_${id}.c)
  set(out_main ${CMAKE_CURRENT_BINARY_DIR}/lyra_main_${id}.c)
  file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${mf})
  add_custom_command(
    OUTPUT ${out_asm} ${out_main}
    COMMAND ${CMAKE_COMMAND} -E env LYRA_COMPONENT_PATH=${LYRA_COMPONENT_DIR}
            $<TARGET_FILE:lyra-gen> ${rel} ${NAME} ${out_asm} ${out_main}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    DEPENDS ${mf} lyra-gen ${all_mods}
    COMMENT "Generating static assembly ${NAME} from ${rel}"
    VERBATIM)
  add_library(lyra_asm_${id} STATIC ${out_asm})
  target_link_libraries(lyra_asm_${id} PUBLIC lyra_core ${libs})
  add_executable(lyra-${NAME} ${out_main})
  target_link_libraries(lyra-${NAME} PRIVATE lyra_asm_${id} lyra_run)
  install(TARGETS lyra-${NAME} RUNTIME DESTINATION bin)
endfunction()
