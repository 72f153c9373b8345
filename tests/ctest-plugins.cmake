# Plugin test libraries (tests/plugins/*.c, each a loadable library built only against
# include/plinth/plugin.h) and the wiring of the test-plugin-* tests to them and to the samples.
set(PL_TEST_PLUGIN_DIR ${CMAKE_BINARY_DIR}/tests/plugins)
file(GLOB PL_TEST_PLUGIN_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/plugins/*.c)
set(PL_TEST_PLUGIN_TARGETS)
foreach(src ${PL_TEST_PLUGIN_SRC})
  get_filename_component(name ${src} NAME_WE)
  string(REPLACE "-" "_" tname "pl_${name}")
  add_library(${tname} MODULE ${src})
  target_include_directories(${tname} PRIVATE ${CMAKE_SOURCE_DIR}/include)
  set_target_properties(${tname} PROPERTIES C_STANDARD 11 C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${PL_TEST_PLUGIN_DIR} OUTPUT_NAME ${tname})
  target_compile_options(${tname} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes)
  if(NOT PLINTH_SANITIZE) # the sanitizer runtime lives in the executable that loads it
    target_link_options(${tname} PRIVATE -Wl,--no-undefined)
  endif()
  list(APPEND PL_TEST_PLUGIN_TARGETS ${tname})
endforeach()

file(GLOB PL_PLUGIN_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test-plugin-*.c)
foreach(src ${PL_PLUGIN_TESTS})
  get_filename_component(name ${src} NAME_WE)
  if(TARGET ${name})
    add_dependencies(${name} ${PL_TEST_PLUGIN_TARGETS})
    target_compile_definitions(${name} PRIVATE PL_TEST_PLUGIN_DIR="${PL_TEST_PLUGIN_DIR}")
    if(TARGET plinth_samples)
      add_dependencies(${name} plinth_samples)
      target_compile_definitions(${name} PRIVATE PL_SAMPLES_LIB="$<TARGET_FILE:plinth_samples>")
    endif()
  endif()
endforeach()

# `plinth plugin new` is tested by building a scaffold with cmake, so the test needs the CLI
# source, the shared library (the scaffold's own test links it) and a cmake to run.
if(TARGET test-plugin-cli)
  target_sources(test-plugin-cli PRIVATE ${CMAKE_SOURCE_DIR}/tools/plinth/cmd-plugin.c)
  target_include_directories(test-plugin-cli PRIVATE ${CMAKE_SOURCE_DIR}/tools/plinth)
  add_dependencies(test-plugin-cli plinth)
  target_compile_definitions(test-plugin-cli PRIVATE PL_CMAKE="${CMAKE_COMMAND}"
    PL_INCLUDE_DIR="${CMAKE_SOURCE_DIR}/include" PL_LIB_DIR="$<TARGET_FILE_DIR:plinth>"
    PL_C_COMPILER="${CMAKE_C_COMPILER}")
  # the scaffold's test executable links this build's libplinth: under the sanitizers it needs
  # their runtime (the plugin library itself stays uninstrumented)
  if(PLINTH_SANITIZE)
    target_compile_definitions(test-plugin-cli PRIVATE
      PL_SCAFFOLD_FLAGS=" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
  else()
    target_compile_definitions(test-plugin-cli PRIVATE PL_SCAFFOLD_FLAGS="")
  endif()
endif()

# CUDA plugin kernels: a library with .cuda kernels (and CPU references) for test-plugin-cuda,
# which says "skipped" where there is no CUDA build or device.
if(PLINTH_CUDA AND TARGET test-plugin-cuda)
  add_library(pl_cuda_plugins MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugins/cuda/cuda-plugins.c
    ${CMAKE_CURRENT_SOURCE_DIR}/plugins/cuda/cuda-kernels.cu)
  target_include_directories(pl_cuda_plugins PRIVATE ${CMAKE_SOURCE_DIR}/include)
  set_target_properties(pl_cuda_plugins PROPERTIES C_STANDARD 11 C_VISIBILITY_PRESET hidden
    CUDA_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY ${PL_TEST_PLUGIN_DIR})
  target_link_libraries(pl_cuda_plugins PRIVATE CUDA::cudart_static)
  add_dependencies(test-plugin-cuda pl_cuda_plugins)
  target_compile_definitions(test-plugin-cuda PRIVATE
    PL_CUDA_PLUGINS_LIB="$<TARGET_FILE:pl_cuda_plugins>")
endif()
