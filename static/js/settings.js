// The settings page: a provider preset fills the endpoint, key name and models (the values
// come from the page's own JSON block); the reader adjusts and saves.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("preset-data");
    if (!data) return;
    var presets = {};
    JSON.parse(data.textContent).forEach(function (p) { presets[p.id] = p; });
    var fields = ["base_url", "api_key_env", "narrative_model", "classifier_model"];
    function field(name) { return document.getElementById("f-inference." + name); }
    function mark() {
      var url = field("base_url").value.trim();
      document.querySelectorAll(".preset").forEach(function (b) {
        var p = presets[b.dataset.preset];
        b.setAttribute("aria-pressed", p && p.base_url === url ? "true" : "false");
      });
    }
    document.querySelectorAll(".preset").forEach(function (button) {
      button.addEventListener("click", function () {
        var p = presets[button.dataset.preset];
        fields.forEach(function (name) { field(name).value = p[name]; });
        document.getElementById("preset-note").textContent = p.label + ": " + p.note;
        mark();
      });
    });
    field("base_url").addEventListener("input", mark);
    mark();
  });
})();
