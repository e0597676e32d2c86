// Owns the precompiled header that other targets reuse (see cmake/Pch.cmake).
