"""Which container image references envadmin accepts: the table below is the spec.

The grammar is the distribution project's `reference` package ([registry/]repository[:tag][@digest],
lowercase repository path, tag of at most 128 characters, name of at most 255 characters).
"""

import pytest

from envadmin.contract.image import image_reference_error

DIGEST = "sha256:" + "0123456789abcdef" * 4

VALID = [
    pytest.param("ubuntu", id="bare repository"),
    pytest.param("ubuntu:22.04", id="repository and tag"),
    pytest.param("python:3.11", id="tag with a dot"),
    pytest.param("nvcr.io/nvidia/pytorch:24.05-py3", id="registry, nested path and tag"),
    pytest.param("localhost:5000/team/img:tag", id="registry with port"),
    pytest.param(f"registry.example.com/a/b/c@{DIGEST}", id="deep path and digest"),
    pytest.param(f"img:tag@{DIGEST}", id="tag and digest"),
    pytest.param(f"ubuntu@{DIGEST}", id="digest without tag"),
    pytest.param("a__b", id="double underscore separator"),
    pytest.param("a-b--c", id="repeated dash separator"),
    pytest.param("a.b_c", id="dot and underscore separators"),
    pytest.param("Registry.Example.COM/team/img", id="uppercase registry host"),
    pytest.param("[::1]:5000/img", id="ipv6 registry"),
    pytest.param("ubuntu:" + "t" * 128, id="tag of exactly 128 chars"),
    pytest.param("r.io/" + "a" * 250, id="name of exactly 255 chars"),
    pytest.param("ubuntu:Latest_Tag-1.0", id="tag with uppercase, underscore, dash and dot"),
]

INVALID = [
    pytest.param("", id="empty"),
    pytest.param(" ", id="blank"),
    pytest.param(" ubuntu", id="leading space"),
    pytest.param("ubuntu ", id="trailing space"),
    pytest.param("Ubuntu", id="uppercase repository"),
    pytest.param("docker.io/Library/ubuntu", id="uppercase path after a registry"),
    pytest.param("nvcr.io/nvidia/PyTorch:24.05", id="uppercase last path component"),
    pytest.param("ubuntu:", id="trailing colon"),
    pytest.param("ubuntu:tag with space", id="space in tag"),
    pytest.param("ubuntu:.tag", id="tag starting with a dot"),
    pytest.param("ubuntu:-tag", id="tag starting with a dash"),
    pytest.param("-leading", id="leading dash"),
    pytest.param("_leading", id="leading underscore"),
    pytest.param("trailing-", id="trailing dash"),
    pytest.param("a___b", id="triple underscore"),
    pytest.param("a//b", id="empty path component"),
    pytest.param("team/", id="trailing slash"),
    pytest.param("/ubuntu", id="leading slash"),
    pytest.param("ubuntu:" + "t" * 129, id="tag longer than 128 chars"),
    pytest.param("r.io/" + "a" * 251, id="name longer than 255 chars"),
    pytest.param("x" * 256, id="bare name longer than 255 chars"),
    pytest.param("http://docker.io/ubuntu", id="url scheme"),
    pytest.param("ubuntu@sha256:abc", id="digest too short"),
    pytest.param("ubuntu@" + "0123456789abcdef" * 4, id="digest without algorithm"),
    pytest.param("ubuntu:22.04:1", id="two tags"),
    pytest.param("ubuntu@@" + DIGEST, id="double at sign"),
    pytest.param("ubuntu\n", id="trailing newline"),
    pytest.param("ubuntu:22.04\n", id="trailing newline after tag"),
    pytest.param("ubuntu:t\u00e2g", id="non-ascii letter in tag"),
    pytest.param("ubuntu:\u0661\u0662", id="non-ascii digits in tag"),
    pytest.param("\u00fcbuntu", id="non-ascii letter in repository"),
]


@pytest.mark.parametrize("reference", VALID)
def test_it_accepts_a_valid_image_reference(reference):
    assert image_reference_error(reference) is None


@pytest.mark.parametrize("reference", INVALID)
def test_it_rejects_an_invalid_image_reference(reference):
    error = image_reference_error(reference)
    assert isinstance(error, str) and error


def test_it_explains_a_malformed_reference_by_quoting_it():
    error = image_reference_error("Ubuntu")
    assert "'Ubuntu'" in error
    assert "lowercase" in error


def test_it_explains_an_overlong_name_by_its_limit():
    error = image_reference_error("r.io/" + "a" * 251)
    assert "255" in error
