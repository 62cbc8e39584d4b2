"""The bulletin form: every field of SPEC 1.4 in an officer's words, and nothing saved that
a board would refuse. Each field is checked here with a Vietnamese message, then the whole
item goes through the board's own parser (kiosk.core.model.parse_item) as a last word."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from kiosk.core.model import MAX_WINDOWS, ItemError, parse_item
from kiosk.core.textrules import clean_text, text_problem
from kiosk.province.accounts.rights import Officer
from kiosk.province.bulletins.bulletin import WEEKDAY_CHOICES
from kiosk.province.bulletins.hourtext import HoursError, read_windows
from kiosk.province.bulletins.models import Bulletin
from kiosk.province.bulletins.targets import COMMUNE_PREFIX, Target, describe, expand
from kiosk.province.bulletins.uploads import TOO_LARGE, ImageRefused, StoredImage, store_image

# (field, most characters, many lines) as SPEC 1.4 bounds them
TEXTS = (("title", 200, False), ("body", 5000, True), ("ticker", 500, False),
         ("caption", 300, False))  # fmt: skip
KIND_TEXTS = {"text": ("title", "body"), "image": ("caption",), "ticker": ("ticker",)}
FIELD_OF_ITEM = {"text": "ticker", "asset": "image", "file": "image"}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"]


class TargetPicker(forms.CheckboxSelectMultiple):
    """The wide targets (the province, each district) as checkboxes, and of the communes
    only those chosen: 10,000 communes are found by typing (bulletin_form.html asks
    /bulletins/targets), not sent as 10,000 checkboxes."""

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        chosen = set(value or ())
        everything = self.choices
        self.choices = [(k, label) for k, label in everything
                        if not k.startswith(COMMUNE_PREFIX) or k in chosen]  # fmt: skip
        try:
            return super().get_context(name, value, attrs)
        finally:
            self.choices = everything


class BulletinForm(forms.Form):
    kind = forms.ChoiceField(
        label="Loại bản tin",
        choices=Bulletin.Kind.choices,
        widget=forms.RadioSelect,
        initial="text",
    )
    priority = forms.ChoiceField(
        label="Mức độ",
        choices=Bulletin.Priority.choices,
        widget=forms.RadioSelect,
        initial="normal",
    )
    title = forms.CharField(label="Tiêu đề", required=False, strip=False)
    body = forms.CharField(
        label="Nội dung", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    ticker = forms.CharField(label="Dòng chữ chạy", required=False, strip=False)
    image = forms.FileField(
        label="Ảnh (JPEG, PNG hoặc WebP, tối đa 50 MB)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    caption = forms.CharField(label="Chú thích ảnh", required=False, strip=False)
    fit = forms.ChoiceField(
        label="Cách đặt ảnh",
        choices=[("contain", "Vừa khung (thấy cả ảnh)"), ("cover", "Phủ kín (cắt bớt mép)")],
        initial="contain",
    )
    background = forms.RegexField(
        label="Màu nền quanh ảnh (#RRGGBB, để trống: màu mặc định)",
        regex=r"^#[0-9A-Fa-f]{6}$",
        required=False,
        error_messages={"invalid": "Viết màu dạng #RRGGBB, ví dụ #1A2B3C."},
    )
    duration = forms.IntegerField(
        label="Thời gian hiện mỗi lượt (giây, 3 đến 600)", min_value=3, max_value=600, initial=10
    )
    valid_from = forms.DateTimeField(
        label="Hiện từ",
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    valid_until = forms.DateTimeField(
        label="Hiện đến (không gồm thời điểm này)",
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    days = forms.TypedMultipleChoiceField(
        label="Các ngày trong tuần (để trống: mọi ngày)",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    hours = forms.CharField(
        label="Khung giờ (ví dụ 07:00-11:30, 13:30-17:00; để trống: cả ngày)", required=False
    )
    targets = forms.MultipleChoiceField(label="Gửi đến", widget=TargetPicker, required=True)

    def __init__(
        self,
        *args: Any,
        choices: Sequence[Target],
        officer: Officer,
        existing: Bulletin | None = None,
        too_large: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = set(too_large)  # file fields the upload handler dropped
        self.choices = list(choices)
        self.officer = officer
        self.existing = existing
        # only what this officer may write for is offered; clean() checks a forged choice
        self.fields["targets"].choices = [
            (t.key, t.label) for t in self.choices if officer.covers(t.channels)
        ]
        self.stored: StoredImage | None = None
        self.channels: tuple[str, ...] = ()
        self.hour_windows: list[str] = []

    @classmethod
    def initial_for(cls, b: Bulletin, choices: Sequence[Target]) -> dict[str, Any]:
        keys = {t.key for t in choices}
        return {
            "kind": b.kind, "priority": b.priority, "title": b.title, "body": b.body,
            "ticker": b.ticker, "caption": b.caption, "fit": b.fit, "background": b.background,
            "duration": round(b.duration), "valid_from": b.valid_from,
            "valid_until": b.valid_until, "days": list(b.days), "hours": ", ".join(b.hours),
            "targets": [c for c in b.channels if c in keys],
        }  # fmt: skip

    def _text(self, name: str, most: int, lines: bool) -> str:
        value = self.cleaned_data.get(name) or ""
        value = clean_text(value)
        if problem := text_problem(value, multiline=lines):
            position = problem.split("position ")[-1].split(";")[0]
            self.add_error(
                name,
                f"Có ký tự điều khiển (không in được) ở vị trí {position}, bảng tin sẽ không "
                "hiện; hãy xóa nó (thường do sao chép từ tệp khác).",
            )
            return ""
        value = value.strip()
        if len(value) > most:
            self.add_error(name, f"Dài {len(value)} ký tự; tối đa {most} ký tự.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        for name, most, lines in TEXTS:  # a hidden field of another kind is not looked at
            used = name in KIND_TEXTS.get(kind or "", ())
            data[name] = self._text(name, most, lines) if used else ""
        self._clean_hours(data.get("hours") or "")
        vf, vu = data.get("valid_from"), data.get("valid_until")
        if vf and vu and vu <= vf:
            self.add_error("valid_until", "Thời điểm kết thúc phải sau thời điểm bắt đầu.")
        try:
            self.channels = expand(data.get("targets") or [], self.choices)
        except KeyError:
            self.add_error("targets", "Nơi gửi không có trong danh sách bảng tin.")
        if self.channels and not self.officer.covers(self.channels):
            self.add_error(
                "targets",
                "Tài khoản này không được viết cho: "
                + describe(set(self.channels) - self.officer.channels, self.choices),
            )
        if kind == "text" and not (data["title"] or data["body"]):
            self.add_error("title", "Bản tin văn bản cần tiêu đề hoặc nội dung.")
        if kind == "ticker" and not data["ticker"]:
            self.add_error("ticker", "Cần nhập dòng chữ chạy.")
        if kind == "image":
            self._clean_image(data)
        if not self.errors:
            self._as_the_board_reads_it(data)
        return data

    def _clean_hours(self, text: str) -> None:
        try:
            windows = read_windows(text)
        except HoursError as exc:
            self.add_error("hours", str(exc))
            return
        if len(windows) > MAX_WINDOWS:
            self.add_error("hours", f"Có {len(windows)} khung giờ; tối đa {MAX_WINDOWS}.")
            return
        self.hour_windows = windows

    def _clean_image(self, data: dict[str, Any]) -> None:
        upload = data.get("image")
        if "image" in self.too_large:
            self.add_error("image", TOO_LARGE)
        elif upload:
            try:
                self.stored = store_image(upload)
            except ImageRefused as exc:
                self.add_error("image", str(exc))
        elif not (self.existing and self.existing.image_sha256):
            self.add_error("image", "Bản tin hình ảnh cần một ảnh.")

    def _as_the_board_reads_it(self, data: dict[str, Any]) -> None:
        probe = Bulletin(pk=1)
        self.apply(probe)
        item: dict[str, Any] = {
            "id": "bt-1", "type": probe.kind, "priority": probe.priority,
            "duration": probe.duration, "title": probe.title, "body": probe.body,
            "text": probe.ticker, "caption": probe.caption, "fit": probe.fit,
            "days": probe.days or None, "hours": probe.hours or None,
            "valid_from": probe.valid_from.isoformat() if probe.valid_from else None,
            "valid_until": probe.valid_until.isoformat() if probe.valid_until else None,
        }  # fmt: skip
        if probe.background:
            item["background"] = probe.background
        if probe.kind == "image":
            item["asset"] = {"sha256": probe.image_sha256, "size": probe.image_size,
                             "media_type": probe.image_type}  # fmt: skip
        try:
            parse_item(item)
        except ItemError as exc:
            field = FIELD_OF_ITEM.get(exc.field or "", exc.field)
            self.add_error(
                field if field in self.fields else None, f"Bảng tin sẽ từ chối bản tin này: {exc}"
            )

    def apply(self, b: Bulletin) -> None:
        """The form's values onto a bulletin (not saved)."""
        data = self.cleaned_data
        b.kind, b.priority = data["kind"], data["priority"]
        b.title = data["title"] if b.kind == "text" else ""
        b.body = data["body"] if b.kind == "text" else ""
        b.ticker = data["ticker"] if b.kind == "ticker" else ""
        b.caption = data["caption"] if b.kind == "image" else ""
        b.fit = data.get("fit") or "contain"
        b.background = (data.get("background") or "").upper() if b.kind == "image" else ""
        if b.kind == "image" and self.stored is not None:
            b.image_sha256 = self.stored.sha256
            b.image_size = self.stored.size
            b.image_type = self.stored.media_type
        elif b.kind != "image":
            b.image_sha256, b.image_size, b.image_type = "", None, ""
        elif self.existing is not None and b is not self.existing:
            b.image_sha256 = self.existing.image_sha256
            b.image_size = self.existing.image_size
            b.image_type = self.existing.image_type
        b.duration = float(data["duration"])
        b.valid_from, b.valid_until = data.get("valid_from"), data.get("valid_until")
        b.days = sorted(set(data.get("days") or []))
        b.hours = list(self.hour_windows)
        b.channels = list(self.channels)
