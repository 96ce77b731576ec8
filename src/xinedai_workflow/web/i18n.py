"""The workbench's words in Chinese (the default) and English; the choice lives in a cookie."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("薪e贷逾期处置工作台", "xinedai workbench"),
    "desk": ("工作台", "Desk"),
    "dashboard": ("监控看板", "Dashboard"),
    "studio": ("合规工作室", "Studio"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "sign_in_idp": ("使用银行统一身份认证登录", "Sign in with the bank's identity provider"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误。", "Wrong user name or password."),
    "sso_failed": ("统一身份认证登录失败：", "Sign-in at the identity provider failed: "),
    "no_local_users": (
        "尚未配置本地用户：使用 xinedai-workflow user add 添加。",
        "No local users yet: add one with xinedai-workflow user add.",
    ),
    "language": ("English", "中文"),
    "mine": ("我的任务", "Mine"),
    "queue": ("组队列", "Group queue"),
    "all": ("全部", "All"),
    "overdue": ("已逾期", "Overdue"),
    "due_soon": ("今日到期", "Due today"),
    "group": ("组", "Group"),
    "stage": ("阶段", "Stage"),
    "any": ("不限", "Any"),
    "filter": ("筛选", "Filter"),
    "next_task": ("下一个任务", "Next task"),
    "no_task": ("当前没有可领取的任务。", "No task is available for you now."),
    "task": ("任务", "Task"),
    "loan": ("贷款", "Loan"),
    "lane": ("处理组", "Lane"),
    "priority": ("优先级", "Priority"),
    "due": ("到期", "Due"),
    "assignee": ("处理人", "Assignee"),
    "unassigned": ("未领取", "Unassigned"),
    "more": ("更多", "More"),
    "empty_inbox": ("没有任务。", "No tasks."),
    "claim": ("领取", "Claim"),
    "unclaim": ("退回", "Give back"),
    "complete": ("提交", "Complete"),
    "script": ("通话脚本 / 指引", "Call script / guidance"),
    "contact_check": ("拨打前合规检查", "Contact check before dialling"),
    "allowed_now": ("现在可以联系", "Contact allowed now"),
    "not_allowed_now": ("现在不可联系", "Contact NOT allowed now"),
    "next_allowed": ("下次允许时间（借款人当地）", "Next allowed (borrower's local time)"),
    "borrower_time": ("借款人当地时间", "Borrower's local time"),
    "today_counts": ("今日次数 / 上限", "Today / cap"),
    "connected_calls": ("接通电话", "Connected calls"),
    "call_attempts": ("拨打次数", "Call attempts"),
    "contacts": ("联系", "Contacts"),
    "quiet_hours": ("禁止联系时段", "Quiet hours"),
    "form": ("处理结果", "Outcome"),
    "form_invalid": ("表单有误，请修改：", "The form has errors:"),
    "claim_first": ("请先领取任务。", "Claim the task first."),
    "case_summary": ("案件摘要", "Case summary"),
    "borrower": ("借款人", "Borrower"),
    "amounts": ("今日应还", "Owed today"),
    "principal": ("逾期本金", "Overdue principal"),
    "interest": ("利息与罚息", "Interest and penalty"),
    "total": ("合计", "Total"),
    "dpd": ("逾期天数", "Days past due"),
    "flags": ("标记", "Flags"),
    "waiting": ("等待中", "Waiting for"),
    "history": ("处理历史", "History"),
    "case": ("案件", "Case"),
    "status": ("状态", "Status"),
    "diagram": ("流程图（当前位置）", "Diagram (live position)"),
    "stage_timeline": ("阶段时间线", "Stage timeline"),
    "documents": ("文书", "Documents"),
    "no_documents": ("暂无文书。", "No documents yet."),
    "open_tasks": ("待办任务", "Open tasks"),
    "none": ("无", "None"),
    "keys": (
        "快捷键：j/k 上下移动，Enter 打开，n 下一个任务，c 领取，Ctrl+Enter 提交",
        "Keys: j/k move, Enter open, n next task, c claim, Ctrl+Enter complete",
    ),
    "select": ("请选择", "Choose"),
    "refused": ("操作被拒绝：", "Refused: "),
    "completed_ok": ("任务已提交，案件已推进。", "Task completed; the case moved on."),
    "period": ("统计区间", "Period"),
    "cure_recovery": ("治愈率与回收率（按周）", "Cure and recovery rate (weekly)"),
    "roll_rates": ("账龄迁移率", "Roll rates between DPD buckets"),
    "rates": ("承诺履约率与本人接通率", "Promise-kept and right-party-contact rates"),
    "funnel": ("各阶段案件数", "Cases per stage"),
    "time_in_stage": ("平均停留时长（小时）", "Mean time in stage (hours)"),
    "work_group": ("各组工作量", "Work per group"),
    "work_person": ("个人工作量", "Work per person"),
    "past_due": ("逾期未办任务", "Tasks past due"),
    "contact_caps": ("每借款人每日联系次数 vs 上限", "Contacts per borrower-day vs caps"),
    "incidents": ("异常案件（error）", "Incidents (cases in error)"),
    "numbers": ("数据表", "Numbers"),
    "csv": ("下载 CSV", "Download CSV"),
    "not_found": ("未找到，或您无权查看。", "Not found, or not visible to you."),
    "forbidden": ("您的角色无权进行此操作。", "Your role may not do this."),
    "csrf": ("页面已过期，请刷新后重试。", "The page expired; reload and try again."),
}


def translator(lang: str) -> Callable[[str], str]:
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        pair = MESSAGES.get(key)
        return pair[index] if pair else key

    return t


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's choice, else Chinese (the bank's staff work in Chinese by default)."""
    if cookie in LANGUAGES:
        return str(cookie)
    return DEFAULT_LANGUAGE
