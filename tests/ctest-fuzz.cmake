# libFuzzer target for the engine reader (PLINTH_FUZZ=ON with clang: CC=clang cmake ...).
# The plan sources are compiled into the fuzzer itself with coverage and ASan/UBSan; the rest of
# the library comes from plinth_static (whose archive members for the plan code are then not
# pulled in). For sanitizer checks inside the rest of the library too, configure with
# -DPLINTH_SANITIZE=ON as well.
if(PLINTH_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(WARNING "PLINTH_FUZZ needs clang (configure with CC=clang); fuzz targets skipped")
  else()
    file(GLOB PL_FUZZ_PLAN_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/plan/*.c)
    set(PL_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer -g)
    add_executable(fuzz-engine ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz-engine.c ${PL_FUZZ_PLAN_SRC})
    target_link_libraries(fuzz-engine PRIVATE plinth_static)
    target_compile_options(fuzz-engine PRIVATE ${PL_FUZZ_FLAGS} ${PL_WARN})
    target_link_options(fuzz-engine PRIVATE ${PL_FUZZ_FLAGS})

    # Seeds: fresh engines written by the format test, plus the committed format-1 files.
    set(PL_FUZZ_DIR ${CMAKE_BINARY_DIR}/fuzz-engine)
    file(MAKE_DIRECTORY ${PL_FUZZ_DIR}/corpus ${PL_FUZZ_DIR}/seeds)
    add_test(NAME fuzz-engine-seeds
      COMMAND test-engine-format --write-seeds ${PL_FUZZ_DIR}/seeds)
    set_tests_properties(fuzz-engine-seeds PROPERTIES FIXTURES_SETUP fuzz_engine_seeds)
    add_test(NAME fuzz-engine-smoke
      COMMAND fuzz-engine -max_total_time=20 -max_len=8192 -print_final_stats=1
        ${PL_FUZZ_DIR}/corpus ${PL_FUZZ_DIR}/seeds ${CMAKE_SOURCE_DIR}/tests/data/engine-seeds)
    set_tests_properties(fuzz-engine-smoke PROPERTIES FIXTURES_REQUIRED fuzz_engine_seeds
      TIMEOUT 120)
  endif()
endif()
