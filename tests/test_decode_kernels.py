"""The pieces of the CPU decode loop that are not the model: attention for one query position below float32,
and the inverse-CDF draw at the very top of a cumulative sum."""

import torch

from rlvr.evaluate.pruned_decode import _eager_one_query, _slot_attention
from rlvr.evaluate.seeded_sampling import _inverse_cdf


def _reference(query, key, value, mask, scale):
    """Attention in float64 with every key/value head repeated for its query heads, as the definition reads."""
    groups = query.shape[1] // key.shape[1]
    key, value = (t.double().repeat_interleave(groups, dim=1) for t in (key, value))
    scores = query.double() @ key.transpose(-1, -2) * scale + mask.double()
    return (torch.softmax(scores, dim=-1) @ value).transpose(1, 2)


def test_bf16_one_query_attention_matches_the_definition_under_padding():
    torch.manual_seed(0)
    rows, heads, kv_heads, width, head_dim = 5, 9, 3, 17, 64
    query = torch.randn(rows, heads, 1, head_dim).bfloat16()
    key, value = (torch.randn(rows, kv_heads, width, head_dim).bfloat16() for _ in range(2))
    mask = torch.zeros(rows, 1, 1, width, dtype=torch.bfloat16)
    mask[1, ..., :6] = float("-inf")  # left padding of different widths
    mask[3, ..., :2] = float("-inf")
    out, _ = _slot_attention(None, query, key, value, mask, scaling=head_dim**-0.5)
    assert out.shape == (rows, 1, heads, head_dim) and out.dtype == torch.bfloat16
    expected = _reference(query, key, value, mask, head_dim**-0.5)
    assert (out.double() - expected).abs().max() < 0.05  # bfloat16 scores: 8 bits of mantissa
    # a padded position carries no weight at all: changing its values changes nothing
    value[1, :, :6] = 1e4
    assert torch.equal(_eager_one_query(query, key, value, mask, head_dim**-0.5)[1], out[1])


def test_float32_stays_on_sdpa_bit_for_bit():
    torch.manual_seed(1)
    query = torch.randn(4, 9, 1, 64)
    key, value = (torch.randn(4, 3, 11, 64) for _ in range(2))
    mask = torch.zeros(4, 1, 1, 11)
    out, _ = _slot_attention(None, query, key, value, mask, scaling=0.125)
    sdpa = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=mask, scale=0.125, enable_gqa=True
    )
    assert torch.equal(out, sdpa.transpose(1, 2))


def test_inverse_cdf_never_lands_on_a_token_without_mass():
    probs = torch.tensor([[0.5, 0.5, 0.0, 0.0], [0.0, 0.25, 0.0, 0.75], [0.2, 0.3, 0.5, 0.0]])
    top = torch.tensor([1.0 - 2.0**-53] * 3, dtype=torch.float64)
    assert _inverse_cdf(probs, top).squeeze(1).tolist() == [1, 3, 2]  # the last token with mass
    bottom = torch.zeros(3, dtype=torch.float64)
    assert _inverse_cdf(probs, bottom).squeeze(1).tolist() == [0, 1, 0]  # the first token with mass
    middle = torch.tensor([0.6, 0.3, 0.45], dtype=torch.float64)
    assert _inverse_cdf(probs, middle).squeeze(1).tolist() == [1, 3, 1]
