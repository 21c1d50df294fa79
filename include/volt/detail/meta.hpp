#pragma once
// Small metaprogramming helpers shared by volt's headers.
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace volt::detail {

// A false that depends on T, so a static_assert fires only when its template is instantiated.
template <class...>
inline constexpr bool dependent_false = false;

template <class T>
struct is_smart_pointer : std::false_type {};
template <class T, class D>
struct is_smart_pointer<std::unique_ptr<T, D>> : std::true_type {};
template <class T>
struct is_smart_pointer<std::shared_ptr<T>> : std::true_type {};

template <class T>
inline constexpr bool is_smart_pointer_v = is_smart_pointer<std::remove_cvref_t<T>>::value;

// Unwraps unique_ptr / shared_ptr / raw pointers so an optimizer or a loader may be handed
// over either by value or behind a pointer (torch::data::make_data_loader returns a unique_ptr).
template <class T>
constexpr decltype(auto) deref(T&& t) noexcept {
  if constexpr (is_smart_pointer_v<T> || std::is_pointer_v<std::remove_cvref_t<T>>) {
    return *t;
  } else {
    return std::forward<T>(t);
  }
}

template <class T>
using deref_t = std::remove_reference_t<decltype(deref(std::declval<T&>()))>;

template <class T, template <class...> class Template>
struct is_specialization_of : std::false_type {};
template <template <class...> class Template, class... A>
struct is_specialization_of<Template<A...>, Template> : std::true_type {};
template <class T, template <class...> class Template>
inline constexpr bool is_specialization_of_v = is_specialization_of<std::remove_cvref_t<T>, Template>::value;

// A callback as the loops see it: a std::optional<C> (a built-in the Trainer may switch off) as C.
template <class T>
struct unwrap_optional {
  using type = T;
};
template <class T>
struct unwrap_optional<std::optional<T>> {
  using type = T;
};
template <class T>
using unwrap_optional_t = typename unwrap_optional<std::remove_cvref_t<T>>::type;

}  // namespace volt::detail
