import pytest

from harness.traffic.virtualservice import VirtualServiceError, default_route, route_weights

SUBSETS = {"stable": "stable", "canary": "canary"}


def vs(*routes):
    return {"spec": {"http": list(routes)}}


def route(*destinations, match=None):
    entry = {"route": [{"destination": {"host": "svc", "subset": s}, **(
        {"weight": w} if w is not None else {})} for s, w in destinations]}
    if match:
        entry["match"] = match
    return entry


def test_weights_per_subset():
    assert route_weights(vs(route(("stable", 90), ("canary", 10))), SUBSETS) == \
        {"stable": 90, "canary": 10}


def test_a_lone_destination_without_weight_takes_everything():
    assert route_weights(vs(route(("stable", None))), SUBSETS) == {"stable": 100, "canary": 0}


def test_the_catch_all_route_decides_not_a_matched_one():
    header = [{"headers": {"x-canary": {"exact": "1"}}}]
    spec = vs(route(("canary", 100), match=header), route(("stable", 70), ("canary", 30)))
    assert route_weights(spec, SUBSETS) == {"stable": 70, "canary": 30}


def test_subsets_map_to_versions():
    spec = vs(route(("v1", 75), ("v2", 25)))
    assert route_weights(spec, {"v1": "stable", "v2": "canary"}) == \
        {"stable": 75, "canary": 25}


def test_an_unknown_subset_names_the_option():
    with pytest.raises(VirtualServiceError, match="--chart-subsets"):
        route_weights(vs(route(("blue", 100))), SUBSETS)


def test_a_prefix_slash_match_catches_everything():
    spec = vs(route(("stable", 80), ("canary", 20), match=[{"uri": {"prefix": "/"}}]))
    assert route_weights(spec, SUBSETS) == {"stable": 80, "canary": 20}


def test_routes_that_all_match_something_have_no_defined_split():
    header = [{"headers": {"x-canary": {"exact": "1"}}}]
    with pytest.raises(VirtualServiceError, match="catches every request"):
        route_weights(vs(route(("canary", 100), match=header)), SUBSETS)


def test_no_http_route_is_an_error():
    with pytest.raises(VirtualServiceError, match=r"spec\.http is empty"):
        default_route({"http": []})
