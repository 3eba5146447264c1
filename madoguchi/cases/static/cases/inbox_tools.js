// The inbox's 「このページの案件をすべて選択」 box (issue 22 item 3): ticks every row's box.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) { return; }
  function boxes() { return document.querySelectorAll("#rows input[type=checkbox][name=case]"); }
  all.addEventListener("change", function () {
    boxes().forEach(function (box) { box.checked = all.checked; });
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.name === "case") {
      var list = boxes();
      var ticked = Array.prototype.filter.call(list, function (box) { return box.checked; }).length;
      all.checked = ticked > 0 && ticked === list.length;
      all.indeterminate = ticked > 0 && ticked < list.length;
    }
  });
})();
