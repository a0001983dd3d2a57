"""Paging as RealtimeKit lists do it: `page_no` (1-based) and `per_page` in, `paging` out.

RealtimeKit documents neither the base of `page_no` nor the default or largest page; salon
reads `page_no` 0 and 1 both as the first page, defaults `per_page` to 20 and caps it at
100, and takes page numbers up to a million (offsets stay far inside a 64-bit integer;
docs/api.md says so).
"""

from dataclasses import dataclass
from typing import Any

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE_NO = 1_000_000


@dataclass(frozen=True)
class Page:
    page_no: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def of(cls, page_no: int | None, per_page: int | None) -> "Page":
        return cls(page_no=max(page_no or 1, 1), per_page=per_page or DEFAULT_PER_PAGE)

    @property
    def offset(self) -> int:
        return (self.page_no - 1) * self.per_page

    def paging(self, total_count: int, returned: int) -> dict[str, Any]:
        """The `paging` object: total rows, and the 0-based offsets of the first and last row."""
        end = self.offset + returned - 1 if returned else self.offset
        return {"total_count": total_count, "start_offset": self.offset, "end_offset": end}
