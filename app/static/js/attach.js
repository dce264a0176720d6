// "Add a photo": with JavaScript the small native input moves into the big label and covers it,
// invisible (a tap anywhere on the button is a tap on the input, which keeps the focus and the
// keyboard), and the line under the button says how many files are chosen. Without JavaScript
// the native input stays visible and shows them itself.
(function () {
  "use strict";
  document.querySelectorAll("[data-attach]").forEach(function (field) {
    var input = field.querySelector("input[type=file]");
    var chosen = field.querySelector("[data-attach-chosen]");
    var label = field.querySelector(".attach-button");
    if (!input || !chosen || !label) return;
    label.appendChild(input);
    field.classList.add("attach-enhanced");
    var none = chosen.getAttribute("data-none") || "";
    var some = chosen.getAttribute("data-some") || "{num}";
    function show() {
      var n = input.files ? input.files.length : 0;
      chosen.textContent = n ? some.replace("{num}", String(n)) : none;
    }
    input.addEventListener("change", show);
    show();
  });
})();
