# libFuzzer target for the ONNX importer (tests/fuzz/fuzz-onnx.c), built when PLINTH_FUZZ=ON
# with clang, and the CTest "fuzz-onnx-smoke": about 20 s of fuzzing from a seed corpus of
# small models copied at test time from the shared ONNX node tests (never committed).
#
# This file is both included by tests/CMakeLists.txt and run as the test's script
# (cmake -P, with FUZZER, SRC and CORPUS defined).

if(CMAKE_SCRIPT_MODE_FILE)
  # ---- test time: build the seed corpus, then fuzz ----
  file(REMOVE_RECURSE ${CORPUS})
  file(MAKE_DIRECTORY ${CORPUS})
  file(GLOB models ${SRC}/test_*/model.onnx)
  set(count 0)
  foreach(m ${models})
    file(SIZE ${m} size)
    if(size LESS 4096 AND count LESS 400)
      get_filename_component(dir ${m} DIRECTORY)
      get_filename_component(test ${dir} NAME)
      file(COPY_FILE ${m} ${CORPUS}/${test}.onnx)
      math(EXPR count "${count} + 1")
    endif()
  endforeach()
  message(STATUS "fuzz-onnx-smoke: ${count} seed models from ${SRC}")
  execute_process(COMMAND ${FUZZER} -max_total_time=20 -rss_limit_mb=2048 -max_len=65536
                          -print_final_stats=1 ${CORPUS}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fuzz-onnx-smoke: the fuzzer found a failure (exit ${rc})")
  endif()
  return()
endif()

if(PLINTH_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang" OR PLINTH_CUDA)
    message(WARNING "PLINTH_FUZZ needs clang and a CPU-only build (-DCMAKE_C_COMPILER=clang "
                    "-DPLINTH_CUDA=OFF); fuzz-onnx not built")
  else()
    # The fuzzer gets its own instrumented copy of the library, so that the normal targets of
    # a fuzz build stay uninstrumented and link as usual.
    set(PL_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
    # Same sources, include paths and definitions as the library (the built-in plugins add
    # theirs to plinth_obj from plugins/, which is configured before tests/).
    get_target_property(PL_FUZZ_SRC plinth_obj SOURCES)
    list(FILTER PL_FUZZ_SRC EXCLUDE REGEX "(/cuda/|\\.cu$)") # CPU only: the importer is fuzzed
    add_executable(fuzz-onnx ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz-onnx.c ${PL_FUZZ_SRC}
                   ${PL_GEN}/onnx/onnx.pb-c.c)
    add_dependencies(fuzz-onnx plinth_onnx_proto)
    target_include_directories(fuzz-onnx PRIVATE
      $<TARGET_PROPERTY:plinth_obj,INCLUDE_DIRECTORIES>)
    target_compile_definitions(fuzz-onnx PRIVATE
      $<TARGET_PROPERTY:plinth_obj,COMPILE_DEFINITIONS>)
    target_compile_options(fuzz-onnx PRIVATE $<$<COMPILE_LANGUAGE:C>:${PL_FUZZ_FLAGS}>)
    target_link_options(fuzz-onnx PRIVATE ${PL_FUZZ_FLAGS})
    target_link_libraries(fuzz-onnx PRIVATE ${PL_LINK})
    if(NOT DEFINED PLINTH_SHARED_DIR)
      set(PLINTH_SHARED_DIR "${CMAKE_SOURCE_DIR}/../shared")
    endif()
    if(EXISTS ${PLINTH_SHARED_DIR}/onnx-node-tests)
      add_test(NAME fuzz-onnx-smoke
               COMMAND ${CMAKE_COMMAND} -DFUZZER=$<TARGET_FILE:fuzz-onnx>
                       -DSRC=${PLINTH_SHARED_DIR}/onnx-node-tests
                       -DCORPUS=${CMAKE_BINARY_DIR}/fuzz-onnx-corpus
                       -P ${CMAKE_CURRENT_LIST_FILE})
      set_tests_properties(fuzz-onnx-smoke PROPERTIES TIMEOUT 120)
    endif()
  endif()
endif()
