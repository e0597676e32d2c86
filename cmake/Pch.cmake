# Precompiled headers (SALVO_PCH): the common standard, abseil, fmt and spdlog
# headers are parsed once per build instead of once per translation unit. Two
# anchor targets own the precompiled headers; every C++ library and
# executable of the project reuses one of them (test executables the one
# with GoogleTest) and gets the anchors' dependencies, so that its compile
# definitions match. A target can opt out with the SALVO_NO_PCH property.

function(salvo_pch_walk dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(NOT type MATCHES "^(STATIC_LIBRARY|EXECUTABLE|OBJECT_LIBRARY)$" OR
       t MATCHES "^salvo_pch_anchor")
      continue()
    endif()
    get_target_property(opt_out ${t} SALVO_NO_PCH)
    if(opt_out)
      continue()
    endif()
    # The same definitions as the anchor (e.g. SPDLOG_FMT_EXTERNAL), or GCC
    # refuses the precompiled header for targets such as salvo_dsn that do
    # not use every dependency themselves.
    target_link_libraries(${t} PRIVATE ${deps})
    get_target_property(libs ${t} LINK_LIBRARIES)
    if(libs MATCHES "GTest::")
      target_precompile_headers(${t} REUSE_FROM salvo_pch_anchor_test)
    else()
      target_precompile_headers(${t} REUSE_FROM salvo_pch_anchor)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    salvo_pch_walk(${sub})
  endforeach()
endfunction()

function(salvo_enable_pch)
  add_compile_options(-Winvalid-pch)
  add_library(salvo_pch_anchor OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cc)
  # The anchors get the same usage requirements (definitions such as
  # _GNU_SOURCE and SPDLOG_COMPILED_LIB) as the targets that reuse them, but
  # not salvo_engine itself, which reuses the anchor.
  set(deps PkgConfig::URING absl::status absl::statusor absl::strings absl::time
           absl::flat_hash_map absl::any_invocable spdlog::spdlog fmt::fmt)
  target_link_libraries(salvo_pch_anchor PRIVATE ${deps})
  target_precompile_headers(salvo_pch_anchor PRIVATE ${PROJECT_SOURCE_DIR}/cmake/pch.h)
  if(SALVO_BUILD_TESTS)
    add_library(salvo_pch_anchor_test OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cc)
    target_link_libraries(salvo_pch_anchor_test PRIVATE ${deps} GTest::gtest GTest::gmock)
    target_precompile_headers(salvo_pch_anchor_test PRIVATE
                              ${PROJECT_SOURCE_DIR}/cmake/pch_test.h)
  endif()
  salvo_pch_walk(${PROJECT_SOURCE_DIR})
endfunction()
