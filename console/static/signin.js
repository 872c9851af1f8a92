// The sign-in page asks once a second whether the code was sent from WeChat; then it opens the board.
(function () {
  "use strict";
  var status = document.getElementById("signin-status");
  function ask() {
    fetch("/console/signin/status", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.state === "ok") { status.textContent = "已确认，正在进入工作台…"; location.href = answer.next; return; }
        if (answer.state === "expired") { status.textContent = "登录码已过期，请刷新页面获取新的登录码。"; return; }
        setTimeout(ask, 1000);
      })
      .catch(function () { setTimeout(ask, 2000); });
  }
  setTimeout(ask, 1000);
})();
