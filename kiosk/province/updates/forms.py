"""The rollout page's one form: which release, to which canary boards, to what share."""

from __future__ import annotations

from django import forms
from packaging.version import Version

from kiosk.core.config import DEVICE_ID
from kiosk.core.release import MAX_DEVICES
from kiosk.core.rolloutplan import STAGES
from kiosk.province.updates.models import Release


def release_choices() -> list[tuple[str, str]]:
    versions = sorted(Release.objects.values_list("version", flat=True), key=Version, reverse=True)
    return [(v, v) for v in versions]


class StartForm(forms.Form):
    version = forms.ChoiceField(label="Bản phát hành", choices=())
    devices = forms.CharField(
        label="Bảng thử trước (mã bảng, cách nhau bởi dấu cách hoặc xuống dòng)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    percent = forms.TypedChoiceField(
        label="Tỷ lệ các bảng",
        coerce=int,
        initial=0,
        choices=[(p, f"{p}%" if p else "Chỉ các bảng thử trước") for p in STAGES],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = release_choices()

    def clean_devices(self) -> list[str]:
        ids = list(dict.fromkeys(self.cleaned_data["devices"].split()))
        if len(ids) > MAX_DEVICES:
            raise forms.ValidationError(f"Nhiều nhất {MAX_DEVICES} bảng.")
        bad = [d for d in ids if not DEVICE_ID.match(d)]
        if bad:
            raise forms.ValidationError(f"Không phải mã bảng tin: {', '.join(bad[:5])}")
        return ids

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("devices") and not data.get("percent"):
            raise forms.ValidationError("Chọn ít nhất một bảng thử trước, hoặc một tỷ lệ.")
        return data
