#pragma once
// TensorBatchLoader<Batch>: TensorLoader for any number of tensors, with the same options and the
// same order for the same (seed, epoch). It is defined with TensorLoader (= TensorBatchLoader<Example>)
// in data/tensor_loader.hpp: one implementation for both names.
#include <volt/data/tensor_loader.hpp>
