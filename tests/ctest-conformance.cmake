# The ONNX conformance runner (tools/conformance) and its CTest tests. Included by
# tests/CMakeLists.txt. The test data live in the shared folder beside the source tree
# (${CMAKE_SOURCE_DIR}/../shared, override with -DPLINTH_SHARED_DIR=...); tests whose folder is
# absent are not registered.

file(GLOB PL_CONFORMANCE_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/conformance/*.c)
add_executable(plinth-conformance ${PL_CONFORMANCE_SRC})
target_link_libraries(plinth-conformance PRIVATE plinth_static)
target_compile_options(plinth-conformance PRIVATE ${PL_WARN})

set(PLINTH_SHARED_DIR "${CMAKE_SOURCE_DIR}/../shared" CACHE PATH
    "Folder holding the ONNX test data (onnx-node-tests, ...)")
set(PL_CONFORMANCE_ROOTS onnx-node-tests onnx-simple-tests onnx-pytorch-operator-tests
    onnx-pytorch-converted-tests)

foreach(root ${PL_CONFORMANCE_ROOTS})
  if(EXISTS ${PLINTH_SHARED_DIR}/${root})
    # Importing every model must never crash and must fail only with clear messages.
    add_test(NAME conformance-import-${root}
             COMMAND plinth-conformance ${PLINTH_SHARED_DIR}/${root} --import-only)
    set_tests_properties(conformance-import-${root} PROPERTIES TIMEOUT 600)
    # Every test listed in expected-cpu.txt under this root must pass on the CPU backend.
    add_test(NAME conformance-cpu-${root}
             COMMAND plinth-conformance ${PLINTH_SHARED_DIR}/${root} --device cpu
                     --expect ${CMAKE_SOURCE_DIR}/tests/conformance/expected-cpu.txt)
    set_tests_properties(conformance-cpu-${root} PROPERTIES TIMEOUT 1800)
    if(PLINTH_CUDA AND EXISTS ${CMAKE_SOURCE_DIR}/tests/conformance/expected-cuda.txt)
      add_test(NAME conformance-cuda-${root}
               COMMAND plinth-conformance ${PLINTH_SHARED_DIR}/${root} --device cuda
                       --expect ${CMAKE_SOURCE_DIR}/tests/conformance/expected-cuda.txt)
      set_tests_properties(conformance-cuda-${root} PROPERTIES TIMEOUT 1800)
    endif()
  endif()
endforeach()
