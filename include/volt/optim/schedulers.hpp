#pragma once
// All of volt's learning-rate schedulers (torch.optim.lr_scheduler's formulas; libtorch 1.13
// ships only StepLR).
#include <volt/optim/scheduler.hpp>
#include <volt/optim/schedulers/cosine_annealing_lr.hpp>
#include <volt/optim/schedulers/exponential_lr.hpp>
#include <volt/optim/schedulers/lambda_lr.hpp>
#include <volt/optim/schedulers/linear_lr.hpp>
#include <volt/optim/schedulers/multi_step_lr.hpp>
#include <volt/optim/schedulers/one_cycle_lr.hpp>
#include <volt/optim/schedulers/reduce_lr_on_plateau.hpp>
#include <volt/optim/schedulers/sequential_lr.hpp>
#include <volt/optim/schedulers/step_lr.hpp>
