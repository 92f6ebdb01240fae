# Cortex-M4 (Thumb-2, no OS) with Debian's gcc-arm-none-eabi and newlib:
#   cmake -S . -B build-m4 -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi-cortex-m4.cmake
# builds the components and the framework code a static assembly links, as
# static libraries only (LYRA_EMBEDDED: no dlopen modules, tools or tests).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar)
set(CMAKE_RANLIB arm-none-eabi-ranlib)
# no linking for a board yet (that comes with the bare-metal adapter)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os")
set(CMAKE_BUILD_TYPE MinSizeRel CACHE STRING "Build type")
set(LYRA_EMBEDDED ON CACHE BOOL "static libraries of the components and lyra_core only")
