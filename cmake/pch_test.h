// The test executables' precompiled headers: the common set plus GoogleTest.
#include "cmake/pch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
