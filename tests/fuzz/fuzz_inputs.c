/*
 * fuzz_inputs.c - libFuzzer target over herald's other untrusted inputs
 * (fuzz_inputs_core.h): `make fuzz FUZZ_TARGET=inputs`.
 */
#include "fuzz_inputs_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_inputs_one(data, size);
	return 0;
}
