# Optional CUDA library (libamalgam_cuda.so): built only when AMALGAM_WITH_CUDA is ON, CUDA sources exist in
# the given directory and CMake finds a CUDA compiler. Its absence never fails the build. cudart is linked
# statically so the library loads on machines without the CUDA toolkit (docs/native.md §6).
# A macro, not a function: enable_language(CUDA) must run in the directory's scope, or CMake loses the CUDA rule
# variables it sets.
macro(amalgam_add_cuda_library cudadir)
  file(GLOB amalgam_cuda_sources "${cudadir}/*.cu")
  set(amalgam_cuda_compiler "")
  if(NOT AMALGAM_WITH_CUDA)
    message(STATUS "amalgam: CUDA disabled (AMALGAM_WITH_CUDA=OFF)")
  elseif(NOT amalgam_cuda_sources)
    message(STATUS "amalgam: no CUDA sources in ${cudadir}; skipping the CUDA library")
  else()
    include(CheckLanguage)
    check_language(CUDA)
    set(amalgam_cuda_compiler "${CMAKE_CUDA_COMPILER}")
    if(NOT amalgam_cuda_compiler)
      message(STATUS "amalgam: no CUDA compiler found; skipping the CUDA library")
    endif()
  endif()
  if(amalgam_cuda_compiler)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # Must be set before enable_language(CUDA); nvcc 13 supports sm_75 and newer only. Real code for Turing,
      # Ampere, Ada, Hopper and Blackwell (datacentre sm_100, workstation sm_120), plus sm_120 PTX that the
      # drivers of newer GPUs compile at load time.
      set(CMAKE_CUDA_ARCHITECTURES "75-real;80-real;86-real;89-real;90-real;100-real;120-real;120-virtual")
    endif()
    enable_language(CUDA)
    add_library(amalgam_cuda SHARED ${amalgam_cuda_sources})
    target_include_directories(amalgam_cuda PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/include")
    set_target_properties(amalgam_cuda PROPERTIES CUDA_RUNTIME_LIBRARY Static CUDA_VISIBILITY_PRESET hidden
      CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON)
    # --fmad=false: no contraction of a * b + c into an FMA, so every operation rounds as the CPU kernels' do (the
    # kernels ask for an FMA where the contract has one). Warnings are errors, as in the CPU build, so a missing
    # KernelTable entry does not compile.
    target_compile_options(amalgam_cuda PRIVATE --fmad=false -Werror=all-warnings
      -Xcompiler=-Wall,-Wextra,-Werror,-Werror=missing-field-initializers)
    if(AMALGAM_STATIC_RUNTIME)
      target_link_options(amalgam_cuda PRIVATE -static-libstdc++ -static-libgcc)
    endif()
    install(TARGETS amalgam_cuda LIBRARY DESTINATION lib)
    message(STATUS "amalgam: CUDA library enabled (${CMAKE_CUDA_COMPILER_ID} ${CMAKE_CUDA_COMPILER_VERSION}, "
      "architectures ${CMAKE_CUDA_ARCHITECTURES})")
  endif()
endmacro()
