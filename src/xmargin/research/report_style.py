"""The report page's stylesheet (inline: the page fetches nothing)."""

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#111827;
 font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
main{max-width:1228px;margin:0 auto;padding:20px 24px 40px}
header h1{font-size:24px;margin:0 0 4px}
.facts{margin:2px 0;color:#4b5563;font-size:13px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
 background:#e5e7eb;padding:1px 4px;border-radius:3px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.complete{background:#dcfce7;color:#166534}
.badge.incomplete,.badge.failed{background:#fee2e2;color:#991b1b}
.kpis{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin:16px 0}
.kpi{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px}
.kpi .label{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.03em}
.kpi .value{font-size:20px;font-weight:650;margin:2px 0;white-space:nowrap}
.kpi .sub{font-size:12px;color:#6b7280}
.kpi.alert{border-color:#fca5a5;background:#fff7f7}
.charts figure{margin:0 0 10px;background:#fff;border:1px solid #e5e7eb;border-radius:8px;
 padding:6px}
.row{display:flex;gap:10px}
.block{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;
 margin:0 0 10px}
.block.half{flex:1;min-width:0}
.row .block.half:first-child{flex:0 0 600px}
h2{font-size:16px;margin:0 0 8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #f0f0f0;text-align:left;white-space:nowrap}
th{color:#374151;font-weight:600;background:#f9fafb}
.num{text-align:right;font-variant-numeric:tabular-nums}
table.compact{width:auto;margin-top:8px}
tr.total td{font-weight:650;border-top:2px solid #d1d5db}
table.heat{font-size:12px}
table.heat td,table.heat th{text-align:center;padding:4px 2px;font-variant-numeric:tabular-nums}
table.heat td.year{font-weight:650}
.scroll{max-height:640px;overflow:auto;border:1px solid #f0f0f0}
table.trades td{font-size:12px}
.muted{color:#6b7280;font-size:12px;margin:6px 0 0}
ul.markers{margin:8px 0 0;padding-left:18px;font-size:13px}
ul.markers li.liquidation{color:#b91c1c}
ul.markers li.breaker{color:#b45309}
footer{color:#6b7280;font-size:12px;margin-top:16px}
"""
