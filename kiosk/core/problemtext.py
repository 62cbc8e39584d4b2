"""Why a board has a problem, in the words a technician reads (Vietnamese).

A problem's message in /health is English for logs and developers (SPEC 3.2), and it is
whatever a board sent: the province's pages read it as an attacker's bytes. The pages show
beside it one Vietnamese line made here from the parts a technician acts on: which channel,
and why (the source has nothing for it yet, an HTTP error, no connection, a timeout). Pure;
an unknown message gives just the channel, or nothing."""

from __future__ import annotations

import re

CHANNEL = re.compile(r"([a-z0-9][a-z0-9._-]{0,63}): ")
HTTP_STATUS = re.compile(r"answered HTTP (\d{3})\b")
SECONDS = r"(\d{1,4}(?:\.\d{1,3})?) s\b"

REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"no connection within " + SECONDS), "không kết nối được tới nguồn trong {0} giây"),
    (re.compile(r"stopped answering for " + SECONDS), "nguồn ngừng trả lời quá {0} giây"),
    (re.compile(r"connection failed or was reset"),
     "không kết nối được tới nguồn (mạng hoặc máy chủ)"),
    (re.compile(r"broke off in the middle"), "kết nối bị đứt giữa chừng"),
    (re.compile(r"more than \d+ redirects"), "nguồn chuyển hướng quá nhiều lần"),
    (re.compile(r"2 MiB"), "danh mục bản tin lớn quá 2 MiB"),
    (re.compile(r"does not have this asset"), "nguồn thiếu một tệp ảnh (HTTP 404)"),
    (re.compile(r"older than the \d+ this board holds"), "nguồn gửi danh mục cũ hơn bản đang có"),
    (re.compile(r"cache cannot be written"), "không ghi được vào bộ nhớ của thiết bị"),
)  # fmt: skip
HTTP_VI = {
    404: "nguồn chưa có bản tin cho kênh này (HTTP 404)",
    401: "nguồn từ chối truy cập (HTTP 401)",
    403: "nguồn từ chối truy cập (HTTP 403)",
}


def reason_vi(message: str) -> str:
    """The why of a problem's message, in Vietnamese; "" when we do not recognise it."""
    status = HTTP_STATUS.search(message)
    if status:
        code = int(status.group(1))
        return HTTP_VI.get(code, f"nguồn trả lời lỗi HTTP {code}")
    for pattern, text in REASONS:
        found = pattern.search(message)
        if found:
            return text.format(*found.groups())
    return ""


def explain_vi(message: str) -> str:
    """ "Kênh xa-02263: nguồn chưa có bản tin cho kênh này (HTTP 404)": the channel a problem
    names (its message starts "<channel>: ") and why; "" when neither is recognised."""
    channel = CHANNEL.match(message)
    reason = reason_vi(message)
    if channel and reason:
        return f"Kênh {channel.group(1)}: {reason}"
    if channel:
        return f"Kênh {channel.group(1)}"
    return reason[:1].upper() + reason[1:]
