# Compiler and linker options shared by every Amalgam native target.
#
# -ffp-contract=off: GCC contracts a*b+c into FMAs differently per ISA in GNU mode; with contraction off and
# explicit fmaf/FMA intrinsics every ISA path gives the same bits as the Java reference (docs/native.md pitfall 14).
function(amalgam_target_options target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -O3 -fno-math-errno -ffp-contract=off -Wall -Wextra)
    if(AMALGAM_STATIC_RUNTIME)
      target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
    endif()
    if(NOT APPLE)
      target_link_options(${target} PRIVATE -Wl,--no-undefined)
    endif()
  endif()
endfunction()
