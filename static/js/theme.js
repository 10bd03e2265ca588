// Runs in <head> before the page paints: the colour theme the reader chose (light, dark, or
// following the system) is set on <html> so a dark-theme reader never sees a white flash.
(function () {
  try {
    var theme = localStorage.getItem("rp-theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) { /* storage may be disabled: follow the system */ }
})();
