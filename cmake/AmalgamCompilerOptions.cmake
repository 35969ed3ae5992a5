# Compiler and linker options shared by every Amalgam native target.
#
# -ffp-contract=off: GCC contracts a*b+c into FMAs differently per ISA in GNU mode; with contraction off and
# explicit fmaf/FMA intrinsics every ISA path gives the same bits as the Java reference (docs/native.md pitfall 14).
# -Werror=missing-field-initializers: a kernel table (kernels.h) is a positional initializer, and one that misses an
# entry would leave a null function pointer that crashes the JVM when that kernel is called.
function(amalgam_target_options target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -O3 -fno-math-errno -ffp-contract=off -Wall -Wextra
                           -Werror=missing-field-initializers)
    if(AMALGAM_STATIC_RUNTIME AND NOT AMALGAM_SANITIZE)
      target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
    endif()
    if(AMALGAM_SANITIZE)
      target_compile_options(${target} PRIVATE -fsanitize=${AMALGAM_SANITIZE} -fno-sanitize-recover=all
                                               -fno-omit-frame-pointer -g)
      target_link_options(${target} PRIVATE -fsanitize=${AMALGAM_SANITIZE})
    elseif(NOT APPLE)
      # A sanitized shared library leaves its runtime's symbols to the executable, so only unsanitized builds
      # can insist that every symbol resolves at link time.
      target_link_options(${target} PRIVATE -Wl,--no-undefined)
    endif()
  endif()
endfunction()
