#pragma once
// Lightning's GAN example (examples/pytorch/domain_templates/generative_adversarial_net.py), ported
// line by line: manual optimization with two Adam optimizers, toggle_optimizer / untoggle_optimizer,
// manual_backward, log_dict. Shared by the example's main.cpp and its check.
#include <cstdint>
#include <map>
#include <string>

#include <torch/torch.h>

#include <volt/data/fashion_mnist.hpp>
#include <volt/volt.hpp>

namespace gan {

struct GANOptions {
  double lr = 0.0002;
  double b1 = 0.5;
  double b2 = 0.999;
  std::int64_t latent_dim = 100;
};

// Linear blocks with LeakyReLU, BatchNorm1d(eps = 0.8) after the first, Tanh out: images in [-1, 1].
inline torch::nn::Sequential make_generator(std::int64_t latent_dim, std::int64_t pixels) {
  using namespace torch::nn;
  Sequential model;
  auto block = [&](std::int64_t in, std::int64_t out, bool normalize) {
    model->push_back(Linear(in, out));
    if (normalize) model->push_back(BatchNorm1d(BatchNormOptions(out).eps(0.8)));
    model->push_back(LeakyReLU(LeakyReLUOptions().negative_slope(0.2).inplace(true)));
  };
  block(latent_dim, 128, false);
  block(128, 256, true);
  block(256, 512, true);
  block(512, 1024, true);
  model->push_back(Linear(1024, pixels));
  model->push_back(Tanh());
  return model;
}

inline torch::nn::Sequential make_discriminator(std::int64_t pixels) {
  using namespace torch::nn;
  return Sequential(Linear(pixels, 512), LeakyReLU(LeakyReLUOptions().negative_slope(0.2).inplace(true)),
                    Linear(512, 256), LeakyReLU(LeakyReLUOptions().negative_slope(0.2).inplace(true)),
                    Linear(256, 1));
}

struct GAN : torch::nn::Module {
  // Lightning: self.automatic_optimization = False
  static constexpr bool automatic_optimization = false;
  static constexpr std::int64_t side = volt::data::FashionMNIST::image_size;

  GANOptions options;
  std::map<std::string, double> hp;  // save_hyperparameters()
  torch::nn::Sequential generator{nullptr};
  torch::nn::Sequential discriminator{nullptr};
  torch::Tensor validation_z;  // fixed noise: the same samples are drawn after every epoch

  explicit GAN(GANOptions o = {})
      : options(o),
        hp{{"lr", o.lr}, {"b1", o.b1}, {"b2", o.b2}, {"latent_dim", static_cast<double>(o.latent_dim)}} {
    generator = register_module("generator", make_generator(o.latent_dim, side * side));
    discriminator = register_module("discriminator", make_discriminator(side * side));
    validation_z = register_buffer("validation_z", torch::randn({64, o.latent_dim}));
  }

  torch::Tensor forward(const torch::Tensor& z) { return generator->forward(z).view({z.size(0), 1, side, side}); }
  torch::Tensor discriminate(const torch::Tensor& images) {
    return discriminator->forward(images.view({images.size(0), -1}));
  }
  static torch::Tensor adversarial_loss(const torch::Tensor& y_hat, const torch::Tensor& y) {
    return torch::binary_cross_entropy_with_logits(y_hat, y);
  }

  // The DataModule normalizes to mean 0 / std 1; the Tanh generator needs real images in [-1, 1].
  volt::data::Example on_after_batch_transfer(volt::data::Example batch, std::int64_t) {
    using volt::data::FashionMNIST;
    batch.data = (batch.data * FashionMNIST::stddev + FashionMNIST::mean) * 2.0 - 1.0;
    return batch;
  }

  // `auto& ctx` is the GAN's typed volt::RunContext: it knows configure_optimizers returns two
  // Adams, so they unpack without a count (a hook taking volt::Context& writes ctx.optimizers<2>()).
  void training_step(const volt::data::Example& batch, std::int64_t, auto& ctx) {
    const torch::Tensor& imgs = batch.data;
    auto [opt_g, opt_d] = ctx.optimizers();  // Lightning: opt_g, opt_d = self.optimizers()

    const torch::Tensor z = torch::randn({imgs.size(0), options.latent_dim}, imgs.options());

    // Train the generator: make the discriminator call its samples real.
    const torch::Tensor valid = torch::ones({imgs.size(0), 1}, imgs.options());
    ctx.toggle_optimizer(opt_g);
    const torch::Tensor g_loss = adversarial_loss(discriminate(forward(z)), valid);
    opt_g.zero_grad();
    ctx.manual_backward(g_loss);
    opt_g.step();
    ctx.untoggle_optimizer(opt_g);

    // Train the discriminator: real images as real, generated ones as fake.
    ctx.toggle_optimizer(opt_d);
    const torch::Tensor real_loss = adversarial_loss(discriminate(imgs), valid);
    const torch::Tensor fake = torch::zeros({imgs.size(0), 1}, imgs.options());
    const torch::Tensor fake_loss = adversarial_loss(discriminate(forward(z).detach()), fake);
    const torch::Tensor d_loss = (real_loss + fake_loss) / 2;
    opt_d.zero_grad();
    ctx.manual_backward(d_loss);
    opt_d.step();
    ctx.untoggle_optimizer(opt_d);

    ctx.log_dict({{"d_loss", d_loss.detach()}, {"g_loss", g_loss.detach()}}, {.prog_bar = true});
  }

  auto configure_optimizers() {
    auto adam = [&] { return torch::optim::AdamOptions(options.lr).betas({options.b1, options.b2}); };
    return std::tuple{torch::optim::Adam(generator->parameters(), adam()),
                      torch::optim::Adam(discriminator->parameters(), adam())};
  }

  // Samples from the fixed noise, in [-1, 1], [64, 1, 28, 28], in eval mode (BatchNorm's running
  // statistics), without autograd.
  torch::Tensor sample() {
    torch::NoGradGuard no_grad;
    const bool was_training = is_training();
    eval();
    torch::Tensor images = forward(validation_z);
    train(was_training);
    return images;
  }
};

// Whether a batch of images in [-1, 1] looks like images rather than noise: neighbouring pixels
// are strongly correlated in images (and in FashionMNIST most of the background is near -1),
// not in noise.
struct SampleStatistics {
  double mean = 0.0;
  double background_fraction = 0.0;  // pixels below -0.9
  double neighbour_correlation = 0.0;  // of horizontally adjacent pixels
  double spread_across_samples = 0.0;  // mean per-pixel std over the batch: no mode collapse to one image
};

inline SampleStatistics sample_statistics(const torch::Tensor& images) {
  const torch::Tensor x = images.to(torch::kFloat64);
  SampleStatistics s;
  s.mean = x.mean().item<double>();
  s.background_fraction = (x < -0.9).to(torch::kFloat64).mean().item<double>();
  const torch::Tensor left = x.narrow(3, 0, x.size(3) - 1).flatten();
  const torch::Tensor right = x.narrow(3, 1, x.size(3) - 1).flatten();
  const torch::Tensor l = left - left.mean(), r = right - right.mean();
  s.neighbour_correlation = ((l * r).sum() / (l.norm() * r.norm() + 1e-12)).item<double>();
  s.spread_across_samples = x.std(0).mean().item<double>();
  return s;
}

}  // namespace gan
