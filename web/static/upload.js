// While the list is uploaded and validated, say so and keep the clerk from
// sending it twice.
(function () {
  "use strict";
  var form = document.querySelector("form.upload");
  if (!form) return;
  form.addEventListener("submit", function () {
    document.getElementById("upload-button").disabled = true;
    document.getElementById("upload-status").hidden = false;
  });
})();
