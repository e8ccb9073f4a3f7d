"""Bad input stops a blue/green verification before anything is deployed."""

import pytest

from fixtures.reference import sentiment_pipelines
from harness.errors import CutoverError
from harness.pipeline.tablelist import check_coverage, read_table_list
from harness.strategy.bluegreen_setup import BlueGreenSpec, prepare
from harness.strategy.serving import ServingMap


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    return sentiment_pipelines(tmp_path_factory.mktemp("repo"))


def spec(pipelines, **kw):
    return BlueGreenSpec(pipelines=pipelines, from_ref="main", to_ref="add_sentiment_label",
                         **kw)


def test_a_table_list_missing_a_descendant_is_refused_naming_it(pipelines, tmp_path):
    listed = tmp_path / "statements-to-deploy.txt"
    listed.write_text("# release 42\nint_article_sentiment\nfct_ticker_sentiment\n")
    with pytest.raises(CutoverError, match=r"v_sector_sentiment \(reads fct_ticker"):
        prepare(spec(pipelines, table_list=listed))


def test_a_table_list_naming_a_green_statement_is_a_warning(pipelines, tmp_path):
    listed = tmp_path / "list.txt"
    listed.write_text("int_article_sentiment\nfct_ticker_sentiment\nv_sector_sentiment\n"
                      "src_tickers\n")
    prepared = prepare(spec(pipelines, table_list=listed))
    assert any("src_tickers" in w and "restart" in w for w in prepared.warnings)
    coverage = check_coverage(read_table_list(listed), prepared.plan, prepared.v2)
    assert coverage.ok and coverage.extra == ["src_tickers"]


def test_no_change_between_refs_is_refused(pipelines):
    with pytest.raises(CutoverError, match="no statement changed"):
        prepare(BlueGreenSpec(pipelines=pipelines, from_ref="main", to_ref="main"))


def test_an_unknown_ref_and_a_bad_then_are_refused(pipelines):
    with pytest.raises(CutoverError, match="not a commit"):
        prepare(BlueGreenSpec(pipelines=pipelines, from_ref="main", to_ref="nope"))
    with pytest.raises(CutoverError, match="--then"):
        prepare(spec(pipelines, then="sideways"))


def test_serving_map_switches_are_durable_and_have_history(tmp_path):
    path = tmp_path / "serving.json"
    ServingMap(path, topic_prefix="ns.").set({"a": "a"}, reason="deployed")
    ServingMap(path).set({"a": "a_v2"}, reason="promoted")
    reread = ServingMap(path)
    assert reread.serving("a") == "a_v2" and reread.serving("b") == "b"
    assert [h["to"] for h in reread.read()["history"]] == ["a", "a_v2"]
