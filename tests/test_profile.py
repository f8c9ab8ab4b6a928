import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from conftest import profiled_run
from pipeline.config import ProfileConfig
from pipeline.analysis.evidence import attribute_table, enrichment_p_values, q_values
from pipeline.analysis.onset import onset_date
from pipeline.analysis.profile import ScoreCols, iceberg_table, profiles
from pipeline.analysis.timing import timeline_table, trend_status
from pipeline.schemas import (ATTRIBUTES, ICEBERGS, TIMELINE, AttributeCols, IcebergCols,
                              TicketCols, TimelineCols)

A, I, T = AttributeCols, IcebergCols, TicketCols


def make_tickets(icebergs: list[str | None], created: list[str | None] | None = None,
                 **columns: list) -> pd.DataFrame:
    n = len(icebergs)
    created = created if created is not None else ["2024-03-01"] * n
    return pd.DataFrame({
        T.ticket_id: [f"t{i:03d}" for i in range(n)],
        T.created_at: pd.to_datetime(pd.Series(created, dtype="str"), utc=True, format="ISO8601"),
        T.text: ["card arrival late" if i else "other question" for i in icebergs],
        T.iceberg_id: pd.Series(icebergs, dtype="str"),
        T.membership: [1.0 if i else 0.0 for i in icebergs],
        **{name: pd.Series(values, dtype="str") for name, values in columns.items()},
    })


def embeddings_for(tickets: pd.DataFrame) -> np.ndarray:
    vectors = np.random.default_rng(0).normal(size=(len(tickets), 8)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def hypergeometric_tail(count: int, size: int, value_count: int, total: int) -> float:
    """P(X >= count), X ~ hypergeometric: written out from the formula, independently."""
    return sum(math.comb(value_count, k) * math.comb(total - value_count, size - k)
               for k in range(count, min(size, value_count) + 1)) / math.comb(total, size)


# --- attributes ---------------------------------------------------------------------

@pytest.fixture
def platform_tickets() -> pd.DataFrame:
    # a: 5 tickets, 4 with a known platform (3 ios, 1 android); b: web, android;
    # the rest: ios, android ×3, unknown. Known platform: 10 tickets, ios 4, android 5, web 1.
    return make_tickets(
        ["a"] * 5 + ["b"] * 2 + [None] * 5,
        platform=["ios", "ios", "ios", "android", None, "web", "android",
                  "ios", "android", "android", "android", None])


def test_attribute_counts_shares_and_lift_by_hand(platform_tickets):
    table = attribute_table(platform_tickets, ["platform"]).set_index([A.iceberg_id, A.value])
    ios = table.loc[("a", "ios")]
    assert (ios[A.count], ios[A.baseline_count]) == (3, 4)
    assert ios[A.share] == pytest.approx(3 / 4)           # of a's 4 tickets with a platform
    assert ios[A.baseline_share] == pytest.approx(4 / 10)
    assert ios[A.lift] == pytest.approx(1.875)
    assert table.loc[("a", "android"), A.lift] == pytest.approx((1 / 4) / (5 / 10))
    assert table.loc[("b", "web"), A.lift] == pytest.approx((1 / 2) / (1 / 10))
    assert sorted(table.index) == [("a", "android"), ("a", "ios"), ("b", "android"), ("b", "web")]


def test_attribute_p_values_are_one_sided_fisher(platform_tickets):
    table = attribute_table(platform_tickets, ["platform"]).set_index([A.iceberg_id, A.value])
    # P(X >= 3), X ~ Hypergeom(N=10, K=4, n=4) = (C(4,3)·C(6,1) + C(4,4)·C(6,0)) / C(10,4)
    assert table.loc[("a", "ios"), A.p_value] == pytest.approx(25 / 210)
    assert table.loc[("a", "android"), A.p_value] == pytest.approx(205 / 210)
    assert table.loc[("b", "web"), A.p_value] == pytest.approx(1 - 36 / 45)
    np.testing.assert_allclose(table[A.q_value], q_values(table[A.p_value].to_numpy()))


def test_enrichment_p_values_match_the_formula_and_scipy_fisher():
    count, size, value_count, total = 7, 12, 20, 100
    expected = hypergeometric_tail(count, size, value_count, total)
    fisher = fisher_exact([[count, size - count],
                           [value_count - count, total - size - value_count + count]],
                          alternative="greater").pvalue
    got = enrichment_p_values(np.array([count, 1]), np.array([size, size]),
                              np.array([value_count, value_count]), total)
    assert got[0] == pytest.approx(expected, rel=1e-9)
    assert got[0] == pytest.approx(fisher, rel=1e-9)
    assert got[1] == pytest.approx(hypergeometric_tail(1, size, value_count, total), rel=1e-9)


def test_q_values_benjamini_hochberg_by_hand():
    # sorted: .01 ·4/1 = .04, .03 ·4/2 = .06, .04 ·4/3 = .0533, .2 ·4/4 = .2; then the
    # running minimum from the largest p down: .04, .0533, .0533, .2
    np.testing.assert_allclose(q_values(np.array([0.01, 0.04, 0.03, 0.2])),
                               [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert q_values(np.array([])).size == 0


def test_attribute_table_empty_cases_and_bad_dimension(platform_tickets):
    for table in (attribute_table(platform_tickets, []),
                  attribute_table(platform_tickets.assign(**{T.iceberg_id: None}), ["platform"])):
        assert table.empty
        assert list(table.columns) == ATTRIBUTES.columns + [A.baseline_count, A.n_values,
                                                             A.window_start, A.window_end]
        ATTRIBUTES.to_arrow(table)
    with pytest.raises(ValueError, match="region"):
        attribute_table(platform_tickets, ["region"])


# --- timeline, onset, trend ---------------------------------------------------------

@pytest.fixture
def dated_tickets() -> pd.DataFrame:
    return make_tickets(["a", "a", "a", "b", None, "a"],
                        ["2024-01-03 10:00", "2024-01-04 23:59", "2024-01-24", "2024-02-29",
                         "2024-06-01", None])


def test_weekly_timeline_starts_on_monday_and_fills_gaps(dated_tickets):
    timeline = timeline_table(dated_tickets, "W")
    TIMELINE.to_arrow(timeline)
    assert timeline.to_dict("list") == {
        TimelineCols.iceberg_id: ["a", "a", "a", "a", "b"],
        TimelineCols.period_start: [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15),
                                    date(2024, 1, 22), date(2024, 2, 26)],
        TimelineCols.count: [2, 0, 0, 1, 1]}


def test_daily_and_monthly_timelines(dated_tickets):
    daily = timeline_table(dated_tickets, "D")
    a = daily[daily[TimelineCols.iceberg_id] == "a"]
    assert len(a) == 22 and a[TimelineCols.count].sum() == 3
    monthly = timeline_table(dated_tickets, "M")
    assert monthly[TimelineCols.period_start].tolist() == [date(2024, 1, 1), date(2024, 2, 1)]
    with pytest.raises(ValueError, match="'Q'"):
        timeline_table(dated_tickets, "Q")


def test_timeline_without_dates_is_empty(dated_tickets):
    undated = dated_tickets.assign(**{T.created_at: pd.NaT})
    timeline = timeline_table(undated, "W")
    assert timeline.empty and list(timeline.columns) == TIMELINE.columns
    TIMELINE.to_arrow(timeline)


def daily(counts: list[int] | np.ndarray, start: str = "2024-01-01") -> pd.Series:
    return pd.Series(counts, index=pd.date_range(start, periods=len(counts), freq="D"))


def test_onset_at_a_step():
    step = 45                                          # a Thursday, six weeks in
    rng = np.random.default_rng(1)
    for before in (0, 2):                              # from nothing, and from a steady rate
        counts = np.r_[rng.poisson(before, step), rng.poisson(10, 42)]
        onset = onset_date(daily(counts))
        first = date(2024, 1, 1) + pd.Timedelta(days=step)
        assert first <= onset <= first + pd.Timedelta(days=6)


def test_onset_at_the_start_of_a_ramp():
    days = pd.date_range("2024-01-01", periods=182, freq="D")
    weekday_rate = np.where(days.day_of_week >= 5, 0.6, 1.0)
    t = np.arange(182)
    ramp = np.where(t >= 100, 0.5 + 5.5 * (t - 100) / 82, 0.0)   # 0.5 a day, growing to 6
    counts = np.random.default_rng(1).poisson(ramp * weekday_rate)
    counts[10] += 1                                    # and a stray ticket long before
    onset = onset_date(pd.Series(counts, index=days))
    assert days[100].date() <= onset <= days[107].date()


@pytest.mark.parametrize("weekday_rate", [0.3, 3, 200])
def test_onset_of_a_steady_weekly_seasonal_series_is_its_first_ticket(weekday_rate):
    days = pd.date_range("2024-01-01", periods=364, freq="D")
    rate = weekday_rate * np.where(days.day_of_week >= 5, 0.6, 1.0)   # quieter weekends
    series = pd.Series(np.random.default_rng(2).poisson(rate), index=days)
    assert onset_date(series) == series[series > 0].index[0].date()


def test_onset_ignores_stray_early_tickets_but_not_a_sparse_steady_series():
    stray_then_step = np.r_[[1], np.zeros(44, int), np.full(42, 8)]
    assert onset_date(daily(stray_then_step)) == date(2024, 2, 15)
    sparse = np.zeros(364, int)
    sparse[3::21] = 1                                  # one ticket every three weeks
    assert onset_date(daily(sparse)) == date(2024, 1, 4)
    stopped = np.r_[np.full(30, 5), np.zeros(60, int)]
    assert onset_date(daily(stopped)) == date(2024, 1, 1)
    stray_then_stopped = np.r_[[1], np.zeros(44, int), np.full(30, 5), np.zeros(60, int)]
    assert onset_date(daily(stray_then_stopped)) == date(2024, 2, 15)
    assert onset_date(daily(np.zeros(30, int))) is None
    assert onset_date(pd.Series(dtype="int64")) is None


@pytest.mark.parametrize(("counts", "expected"), [
    (np.full(84, 5), "stable"),
    (np.r_[np.full(56, 2), np.full(28, 6)], "growing"),
    (np.r_[np.full(56, 6), np.full(28, 1)], "fading"),
    (np.r_[np.full(30, 3), np.zeros(54, int)], "fading"),       # gone quiet
    (np.r_[np.zeros(70, int), np.full(14, 5)], "new"),
    (np.full(40, 5), None),                                       # data too short to compare
    (np.zeros(84, int), None),
])
def test_trend(counts, expected):
    series = daily(counts)
    assert trend_status(series, onset_date(series)) == expected


def test_an_iceberg_that_keeps_its_share_of_a_growing_flow_neither_starts_nor_grows_with_it():
    """The whole flow triples on day 120 (a new channel, a bigger customer base): an
    iceberg with a steady 5 % of it has no onset there and is stable; one whose share
    triples at the same time is growing from then on."""
    rng = np.random.default_rng(3)
    volume = daily(np.r_[np.full(120, 40), np.full(120, 120)])
    steady = daily(rng.binomial(volume.to_numpy(), 0.05))
    assert onset_date(steady, volume) == steady[steady > 0].index[0].date()
    assert trend_status(steady, onset_date(steady, volume), volume=volume) == "stable"
    assert onset_date(steady) > date(2024, 4, 1)          # counted per day, the flow looks like a rise
    assert trend_status(steady, onset_date(steady)) != "stable"
    outgrowing = daily(rng.binomial(volume.to_numpy(), np.r_[np.full(120, 0.02), np.full(120, 0.06)]))
    onset = onset_date(outgrowing, volume)
    assert abs((pd.Timestamp(onset) - pd.Timestamp("2024-01-01")).days - 120) <= 7
    assert trend_status(outgrowing, onset, volume=volume) == "growing"


def test_silence_in_a_quiet_spell_of_the_whole_flow_is_not_fading():
    volume = daily(np.r_[np.full(150, 50), np.full(34, 1)])      # the export thins out at the end
    counts = daily(np.r_[np.tile([1, 0], 75), np.zeros(34, int)])
    assert trend_status(counts, onset_date(counts, volume), volume=volume) == "stable"
    assert trend_status(counts, onset_date(counts)) == "fading"


# --- icebergs -----------------------------------------------------------------------

def test_iceberg_table_counts_customers_and_agents():
    tickets = make_tickets(["a"] * 4 + ["b"] * 2 + [None] * 2,
                           customer_id=["c1", "c1", "c2", None, "c3", "c4", "c1", "c5"],
                           agent_id=["x", "x", "x", "y", "z", None, "x", "y"])
    table = iceberg_table(tickets, embeddings_for(tickets), [], ProfileConfig())
    ICEBERGS.to_arrow(table)
    rows = table.set_index(I.iceberg_id)
    assert rows.loc["a", [I.size, I.n_customers, I.n_agents, I.max_tickets_per_agent]].tolist() \
        == [4, 2, 2, 3]
    assert rows.loc["b", [I.size, I.n_customers, I.n_agents, I.max_tickets_per_agent]].tolist() \
        == [2, 2, 1, 1]
    assert rows[ScoreCols.fragmentation].to_dict() == {"a": 0.5, "b": 1.0}
    # score = log(1 + customers) × (1 + concentration + emergence + fragmentation), where
    # a's ticket without a customer id counts as a third customer
    assert rows.loc["a", I.score] == pytest.approx(math.log(4) * 1.5)
    assert rows.loc["b", I.score] == pytest.approx(math.log(3) * 2.0)
    assert table[I.iceberg_id].tolist() == ["b", "a"] and table[I.rank].tolist() == [1, 2]


def test_iceberg_table_without_customers_or_agents_leaves_them_unknown():
    tickets = make_tickets(["a", "a", "b", "b", None])
    table = iceberg_table(tickets, embeddings_for(tickets), [], ProfileConfig())
    ICEBERGS.to_arrow(table)
    for column in (I.n_customers, I.n_agents, I.max_tickets_per_agent):
        assert table[column].isna().all()
    np.testing.assert_allclose(table[ScoreCols.reach], math.log(3))   # reach falls back on size
    assert table[I.iceberg_id].tolist() == ["a", "b"] and table[I.rank].tolist() == [1, 2]


@pytest.fixture
def account_tickets() -> pd.DataFrame:
    # One ticket a day from 1 March. c1 (account x) moves from smb to ent and from 10 to 30
    # on its last ticket, outside either iceberg; t003 has neither customer nor account.
    tickets = make_tickets(
        ["a", "a", "a", "a", "b", "b", None, None],
        [f"2024-03-0{d}" for d in range(1, 9)],
        customer_id=["c1", "c1", "c2", None, "c3", "c4", "c1", "c5"],
        account_id=["x", "x", "y", None, "y", None, "x", "z"],
        segment=["smb", "smb", "ent", "smb", "ent", None, "ent", "smb"])
    tickets[T.revenue] = [10.0, 20.0, 100.0, 5.0, 50.0, 7.0, 30.0, 1.0]
    return tickets


def test_accounts_segments_and_value_at_risk_by_hand(account_tickets):
    table = iceberg_table(account_tickets, embeddings_for(account_tickets), [], ProfileConfig())
    ICEBERGS.to_arrow(table)
    rows = table.set_index(I.iceberg_id)
    assert rows[I.n_accounts].tolist() == [2, 1]                      # a: x, y; b: y
    # a: c1 is ent by its latest ticket (t006), c2 ent, the anonymous t003 smb on its own;
    # b: c3 ent, c4 has no segment.
    assert rows.loc["a", I.segments] == [{"segment": "ent", "n_customers": 2},
                                         {"segment": "smb", "n_customers": 1}]
    assert rows.loc["b", I.segments] == [{"segment": "ent", "n_customers": 1}]
    # Per account, its latest ticket's revenue: x 30 (t006), y 50 (t004); t003 has no account.
    assert rows[I.value_at_risk].tolist() == [30.0 + 50.0, 50.0]


def test_value_at_risk_per_customer_without_accounts(account_tickets):
    tickets = account_tickets.drop(columns=[T.account_id]).assign(**{T.source_row: range(1, 9)})
    tickets.loc[1, T.created_at] = tickets.loc[0, T.created_at]       # a tie: the later row wins
    tickets.loc[6, T.revenue] = np.nan                                 # c1's latest has no revenue
    tickets.loc[2, T.revenue] = np.nan                                 # c2 has none at all
    table = iceberg_table(tickets, embeddings_for(tickets), [], ProfileConfig()).set_index(I.iceberg_id)
    assert table[I.n_accounts].isna().all()
    assert table.loc["a", I.value_at_risk] == 20.0                     # c1 only: t001 (row 2)
    assert table.loc["b", I.value_at_risk] == 50.0 + 7.0               # c3, c4
    none_known = tickets.assign(**{T.revenue: np.nan})
    table = iceberg_table(none_known, embeddings_for(tickets), [], ProfileConfig())
    assert table[I.value_at_risk].isna().all()                          # unknown, not 0


def test_who_columns_are_null_without_their_input_columns(account_tickets):
    bare = account_tickets.drop(columns=[T.account_id, T.segment, T.revenue])
    table = iceberg_table(bare, embeddings_for(bare), [], ProfileConfig())
    for column in (I.n_accounts, I.segments, I.value_at_risk):
        assert table[column].isna().all(), column
    # Revenue without any customer or account id cannot be counted per customer.
    anonymous = account_tickets.drop(columns=[T.account_id, T.customer_id])
    table = iceberg_table(anonymous, embeddings_for(anonymous), [], ProfileConfig())
    assert table[I.value_at_risk].isna().all()
    # Segments still count: every ticket is a customer of its own, as in reach.
    assert table.set_index(I.iceberg_id).loc["a", I.segments] == [
        {"segment": "smb", "n_customers": 3}, {"segment": "ent", "n_customers": 1}]
    typed = ICEBERGS.to_arrow(iceberg_table(bare, embeddings_for(bare), [], ProfileConfig()))
    assert str(typed.schema.field(I.segments).type) == \
        "list<item: struct<segment: string, n_customers: int64>>"
    assert str(typed.schema.field(I.value_at_risk).type) == "double"
    assert str(typed.schema.field(I.n_accounts).type) == "int64"


def test_boilerplate_icebergs_rank_after_every_problem_with_their_score_kept():
    # "t" (thanks) reaches 8 customers, the problems 2 and 3: by score it would come first.
    tickets = make_tickets(["t"] * 8 + ["p"] * 2 + ["q"] * 3 + [None],
                           customer_id=[f"c{i}" for i in range(14)])
    tickets[T.text] = (["thanks!", "ok thank you", "great, cheers", "thank you so much", "hello?",
                        "all sorted, thanks", "got it", "thanks, the card came"]
                       + ["card not arrived", "my card has not arrived"]
                       + ["pin blocked", "blocked my pin", "pin locked"] + ["other question"])
    table = iceberg_table(tickets, embeddings_for(tickets), [], ProfileConfig())
    assert table[I.iceberg_id].tolist() == ["q", "p", "t"] and table[I.rank].tolist() == [1, 2, 3]
    assert table[I.boilerplate].tolist() == [False, False, True]
    rows = table.set_index(I.iceberg_id)
    assert rows.loc["t", I.score] == pytest.approx(math.log(9))         # the formula, untouched
    assert rows.loc["t", I.score] > rows.loc["q", I.score]
    assert str(ICEBERGS.to_arrow(table).schema.field(I.boilerplate).type) == "bool"


def test_show_prints_accounts_segments_and_value_at_risk(account_tickets):
    from types import SimpleNamespace

    from pipeline.ops.summary import icebergs_summary

    result = profiles(account_tickets, embeddings_for(account_tickets), [], ProfileConfig())
    run = profiled_run(result, account_tickets)
    text = icebergs_summary(run)
    assert "who:   4 tickets, 2 customers, 2 accounts; value at risk 80\n" in text
    assert "    segments: ent 2 · smb 1\n" in text
    assert "Not shown" not in text
    bare = run.icebergs.drop(columns=[I.n_accounts, I.segments, I.value_at_risk, I.boilerplate])
    text = icebergs_summary(SimpleNamespace(**{**vars(run), "icebergs": bare}))   # an older run
    assert "who:   4 tickets, 2 customers\n" in text and "segments" not in text


def test_concentration_is_the_largest_significant_lift():
    # a: 30 tickets all on ios; 200 others with 10 on ios. lift = 1 / (40 / 230).
    tickets = make_tickets(["a"] * 30 + [None] * 200,
                           platform=["ios"] * 40 + ["web"] * 190)
    table = iceberg_table(tickets, embeddings_for(tickets), ["platform"], ProfileConfig())
    row = table.iloc[0]
    assert row[ScoreCols.max_lift] == pytest.approx(230 / 40)
    assert row[ScoreCols.concentration] == pytest.approx(1 - 40 / 230)
    strict = iceberg_table(tickets, embeddings_for(tickets), ["platform"],
                           ProfileConfig(fdr_alpha=1e-30))
    assert strict[ScoreCols.concentration].tolist() == [0.0]
    assert strict[ScoreCols.max_lift].isna().all()


def test_iceberg_table_dates_onset_and_emergence():
    days = pd.date_range("2024-01-01", periods=84, freq="D").strftime("%Y-%m-%d").tolist()
    created = days[::2] + days[-14:]                   # rest all along; b only in the last two weeks
    tickets = make_tickets([None] * 42 + ["b"] * 14, created)
    table = iceberg_table(tickets, embeddings_for(tickets), [], ProfileConfig())
    row = table.iloc[0]
    assert row[I.onset] == date(2024, 3, 11)
    assert row[I.trend] == "new" and row[ScoreCols.emergence] == 1.0
    assert row[I.first_seen] == pd.Timestamp("2024-03-11", tz="UTC")
    assert row[I.last_seen] == pd.Timestamp("2024-03-24", tz="UTC")


def test_profiles_without_dates():
    tickets = make_tickets(["a", "a", "b", None], [None] * 4, customer_id=["c1", "c2", "c1", "c3"])
    result = profiles(tickets, embeddings_for(tickets), [], ProfileConfig())
    assert result.icebergs[I.onset].isna().all() and result.icebergs[I.trend].isna().all()
    assert result.icebergs[I.first_seen].isna().all()
    assert result.timeline.empty
    ICEBERGS.to_arrow(result.icebergs)
    TIMELINE.to_arrow(result.timeline)


def test_profiles_without_icebergs():
    tickets = make_tickets([None] * 3, customer_id=["c1", "c2", "c3"], platform=["a", "b", "a"])
    result = profiles(tickets, embeddings_for(tickets), ["platform"], ProfileConfig())
    for table, schema in ((result.icebergs, ICEBERGS), (result.attributes, ATTRIBUTES),
                          (result.timeline, TIMELINE)):
        assert table.empty
        assert set(schema.columns) <= set(table.columns)
        schema.to_arrow(table)
    assert ScoreCols.reach in result.icebergs.columns


def test_profiles_fill_every_table_and_leave_the_input_alone(platform_tickets):
    before = platform_tickets.copy()
    embeddings = embeddings_for(platform_tickets)
    result = profiles(platform_tickets, embeddings, ["platform"], ProfileConfig(n_keywords=3))
    pd.testing.assert_frame_equal(platform_tickets, before)
    assert result.icebergs[I.label].tolist() == ["arrival late · card"] * 2
    assert result.icebergs[I.keywords].map(len).tolist() == [2, 2]
    assert result.icebergs[I.representative_ticket_ids].map(len).tolist() == [5, 2]
    assert len(result.attributes) == 4 and len(result.timeline) == 2
    for table, schema in ((result.icebergs, ICEBERGS), (result.attributes, ATTRIBUTES),
                          (result.timeline, TIMELINE)):
        schema.to_arrow(table)
