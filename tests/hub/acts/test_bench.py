"""``hub bench --only batch`` measures the real batch path: what it applied is checked here (its
rates are figures, never asserted)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.acts.bench import measure_batch
from hub.acts.models import ActReport
from hub.offices.models import Office


async def test_the_batch_benchmark_applies_its_file_over_its_cases_and_refuses_one_percent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = await measure_batch(sessions, 300, cases=7)

    assert (run.accepted, run.refused) == (297, 3)
    async with sessions() as session:
        per_case = (
            await session.execute(
                select(func.count())
                .select_from(ActReport)
                .join(Office, Office.id == ActReport.office_id)
                .where(Office.code == run.office_code)
                .group_by(ActReport.case_id)
            )
        ).scalars()
        assert sorted(per_case) == [42, 42, 42, 42, 43, 43, 43]
