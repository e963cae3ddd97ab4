"""The report pages' shared style sheet (CSS), inlined in every page so it opens offline."""

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{margin-bottom:4px} h2{margin-top:40px;border-bottom:2px solid #e3e6ea;padding-bottom:4px}
.muted{color:#6a737d;font-size:90%} nav a{margin-right:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:14px}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:14px}
.card .title{font-size:85%;text-transform:uppercase;color:#6a737d;letter-spacing:.04em}
.card .number{font-size:190%;font-weight:600;margin:4px 0}
.card p{margin:0;font-size:92%}
table.data{border-collapse:collapse;width:100%;background:#fff;font-size:88%;margin:8px 0 18px}
table.data th,table.data td{border:1px solid #e3e6ea;padding:4px 7px;text-align:left;vertical-align:top}
table.data th{background:#f1f3f5} td.num{text-align:right;white-space:nowrap}
tr.kind-assumption td{background:#fff8e6} .figure{background:#fff;border:1px solid #e3e6ea;margin:12px 0}
.card .period{font-size:85%;color:#2b6cb0;margin-bottom:4px}
section.q{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:6px 18px 12px;margin:14px 0}
section.q h2{margin-top:10px;border:0;font-size:130%}
.answer{display:flex;flex-wrap:wrap;gap:6px 22px;align-items:baseline}
.answer .number{font-size:170%;font-weight:600} .answer .years{font-weight:600;color:#2b6cb0}
.answer .range{font-size:90%} p.why{margin:6px 0 8px} p.flat{color:#4a5560;font-style:italic}
.chart{background:#fff;margin:8px 0}
details{background:#fff;border:1px solid #e3e6ea;border-radius:8px;margin:10px 0}
details>summary{cursor:pointer;padding:10px 14px;font-weight:600;font-size:110%}
details>.inner{padding:0 14px 12px}
.conflict{margin-bottom:18px} .how{background:#eef5fb;border-left:4px solid #1f77b4;padding:8px 12px}
"""
