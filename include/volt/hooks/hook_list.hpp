#pragma once
// Every hook volt knows, in one table: name, the fewest leading arguments a user's hook must
// take (later arguments may be dropped, and a trailing volt::Context& is always optional),
// and the full signature that a diagnostic quotes. Module, DataModule and callback hooks share
// the table: a callback's hook has the same parameters as the module's hook of that name.
#define VOLT_HOOK_LIST(X)                                                                            \
  X(forward, 1, "auto forward(Input input)")                                                         \
  X(training_step, 1, "Loss training_step(const Batch& batch, int64_t batch_idx, volt::Context& ctx)") \
  X(validation_step, 1, "auto validation_step(const Batch& batch, int64_t batch_idx, volt::Context& ctx)") \
  X(test_step, 1, "auto test_step(const Batch& batch, int64_t batch_idx, volt::Context& ctx)")       \
  X(predict_step, 1, "auto predict_step(const Batch& batch, int64_t batch_idx, volt::Context& ctx)") \
  X(configure_optimizers, 0, "auto configure_optimizers()")                                          \
  X(prepare_data, 0, "void prepare_data()")                                                          \
  X(setup, 0, "void setup(volt::Stage stage, volt::Context& ctx)")                                   \
  X(teardown, 0, "void teardown(volt::Stage stage, volt::Context& ctx)")                             \
  X(train_dataloader, 0, "auto train_dataloader()")                                                  \
  X(val_dataloader, 0, "auto val_dataloader()")                                                      \
  X(test_dataloader, 0, "auto test_dataloader()")                                                    \
  X(predict_dataloader, 0, "auto predict_dataloader()")                                              \
  X(on_fit_start, 0, "void on_fit_start(volt::Context& ctx)")                                        \
  X(on_fit_end, 0, "void on_fit_end(volt::Context& ctx)")                                            \
  X(on_sanity_check_start, 0, "void on_sanity_check_start(volt::Context& ctx)")                      \
  X(on_sanity_check_end, 0, "void on_sanity_check_end(volt::Context& ctx)")                          \
  X(on_train_start, 0, "void on_train_start(volt::Context& ctx)")                                    \
  X(on_train_end, 0, "void on_train_end(volt::Context& ctx)")                                        \
  X(on_validation_start, 0, "void on_validation_start(volt::Context& ctx)")                          \
  X(on_validation_end, 0, "void on_validation_end(volt::Context& ctx)")                              \
  X(on_test_start, 0, "void on_test_start(volt::Context& ctx)")                                      \
  X(on_test_end, 0, "void on_test_end(volt::Context& ctx)")                                          \
  X(on_predict_start, 0, "void on_predict_start(volt::Context& ctx)")                                \
  X(on_predict_end, 0, "void on_predict_end(volt::Context& ctx)")                                    \
  X(on_train_epoch_start, 0, "void on_train_epoch_start(volt::Context& ctx)")                        \
  X(on_train_epoch_end, 0, "void on_train_epoch_end(volt::Context& ctx)")                            \
  X(on_validation_epoch_start, 0, "void on_validation_epoch_start(volt::Context& ctx)")              \
  X(on_validation_epoch_end, 0, "void on_validation_epoch_end(volt::Context& ctx)")                  \
  X(on_test_epoch_start, 0, "void on_test_epoch_start(volt::Context& ctx)")                          \
  X(on_test_epoch_end, 0, "void on_test_epoch_end(volt::Context& ctx)")                              \
  X(on_predict_epoch_start, 0, "void on_predict_epoch_start(volt::Context& ctx)")                    \
  X(on_predict_epoch_end, 0, "void on_predict_epoch_end(volt::Context& ctx)")                        \
  X(training_epoch_end, 1, "void training_epoch_end(std::vector<StepOutput> outputs, volt::Context& ctx)") \
  X(validation_epoch_end, 1, "void validation_epoch_end(std::vector<StepOutput> outputs, volt::Context& ctx)") \
  X(test_epoch_end, 1, "void test_epoch_end(std::vector<StepOutput> outputs, volt::Context& ctx)")   \
  X(on_train_batch_start, 0,                                                                         \
    "bool on_train_batch_start(const Batch& batch, int64_t batch_idx, volt::Context& ctx) (return true to skip the rest of the epoch, or void)") \
  X(on_train_batch_end, 0,                                                                           \
    "void on_train_batch_end(const StepOutput& outputs, const Batch& batch, int64_t batch_idx, volt::Context& ctx)") \
  X(on_validation_batch_start, 0,                                                                    \
    "void on_validation_batch_start(const Batch& batch, int64_t batch_idx, volt::Context& ctx)")     \
  X(on_validation_batch_end, 0,                                                                      \
    "void on_validation_batch_end(const StepOutput& outputs, const Batch& batch, int64_t batch_idx, volt::Context& ctx)") \
  X(on_test_batch_start, 0, "void on_test_batch_start(const Batch& batch, int64_t batch_idx, volt::Context& ctx)") \
  X(on_test_batch_end, 0,                                                                            \
    "void on_test_batch_end(const StepOutput& outputs, const Batch& batch, int64_t batch_idx, volt::Context& ctx)") \
  X(on_predict_batch_start, 0,                                                                       \
    "void on_predict_batch_start(const Batch& batch, int64_t batch_idx, volt::Context& ctx)")        \
  X(on_predict_batch_end, 0,                                                                         \
    "void on_predict_batch_end(const StepOutput& outputs, const Batch& batch, int64_t batch_idx, volt::Context& ctx)") \
  X(on_before_zero_grad, 0, "void on_before_zero_grad(Optimizer& optimizer, volt::Context& ctx)")    \
  X(on_before_backward, 0, "void on_before_backward(const torch::Tensor& loss, volt::Context& ctx)") \
  X(on_after_backward, 0, "void on_after_backward(volt::Context& ctx)")                              \
  X(on_before_optimizer_step, 0, "void on_before_optimizer_step(Optimizer& optimizer, volt::Context& ctx)") \
  X(training_step_end, 1, "StepOutput training_step_end(StepOutput step_output, volt::Context& ctx)")     \
  X(validation_step_end, 1, "StepOutput validation_step_end(StepOutput step_output, volt::Context& ctx)") \
  X(test_step_end, 1, "StepOutput test_step_end(StepOutput step_output, volt::Context& ctx)")             \
  X(optimizer_zero_grad, 3,                                                                          \
    "void optimizer_zero_grad(int64_t epoch, int64_t batch_idx, Optimizer& optimizer, volt::Context& ctx)") \
  X(optimizer_step, 3,                                                                               \
    "void optimizer_step(int64_t epoch, int64_t batch_idx, auto& optimizer, auto& optimizer_closure, volt::Context& ctx) (call optimizer.step(optimizer_closure) in it)") \
  X(backward, 1, "void backward(const torch::Tensor& loss, volt::Context& ctx) (call loss.backward() in it)") \
  X(configure_model, 0, "void configure_model(volt::Context& ctx)")                                  \
  X(on_validation_model_eval, 0, "void on_validation_model_eval(volt::Context& ctx)")                \
  X(on_validation_model_train, 0, "void on_validation_model_train(volt::Context& ctx)")              \
  X(on_test_model_eval, 0, "void on_test_model_eval(volt::Context& ctx)")                            \
  X(on_test_model_train, 0, "void on_test_model_train(volt::Context& ctx)")                          \
  X(on_predict_model_eval, 0, "void on_predict_model_eval(volt::Context& ctx)")                      \
  X(configure_gradient_clipping, 1,                                                                  \
    "void configure_gradient_clipping(Optimizer& optimizer, std::optional<double> gradient_clip_val, volt::GradClipAlgorithm gradient_clip_algorithm, volt::Context& ctx)") \
  X(on_before_batch_transfer, 1, "Batch on_before_batch_transfer(Batch batch, int64_t dataloader_idx, volt::Context& ctx)") \
  X(transfer_batch_to_device, 2,                                                                     \
    "Batch transfer_batch_to_device(Batch batch, torch::Device device, int64_t dataloader_idx, volt::Context& ctx)") \
  X(on_after_batch_transfer, 1, "Batch on_after_batch_transfer(Batch batch, int64_t dataloader_idx, volt::Context& ctx)") \
  X(on_exception, 0, "void on_exception(const std::exception& error, volt::Context& ctx)")          \
  X(lr_scheduler_step, 1,                                                                            \
    "void lr_scheduler_step(Scheduler& scheduler, std::optional<double> metric, volt::Context& ctx) (step the scheduler in it)") \
  X(configure_callbacks, 0, "auto configure_callbacks() (one callback, or a std::tuple of callbacks)")  \
  X(on_save_checkpoint, 1, "void on_save_checkpoint(volt::Checkpoint& checkpoint, volt::Context& ctx)") \
  X(on_load_checkpoint, 1, "void on_load_checkpoint(const volt::Checkpoint& checkpoint, volt::Context& ctx)") \
  X(state_dict, 0, "nlohmann::json state_dict() const")                                              \
  X(load_state_dict, 1, "void load_state_dict(const nlohmann::json& state)")
