"""Colours shared by every chart (HTML report, notebook, matplotlib): one colour per group and per role."""

# Tableau 10: distinct on white and on near-black, the same colour for a group or role in every chart.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
GROUP_COLORS = {"embeddings": PALETTE[0], "encoder": PALETTE[1], "decoder": PALETTE[2], "final_norm": PALETTE[3],
                "pooler": PALETTE[4], "heads": PALETTE[5], "unclassified": PALETTE[6], "vision_tower": PALETTE[7],
                "audio_tower": PALETTE[8], "projector": "#d37295"}
ROLE_COLORS = {"embedding": PALETTE[0], "attention": PALETTE[1], "ffn": PALETTE[2], "norm": PALETTE[3],
               "pooler": PALETTE[4], "head": PALETTE[5], "other": PALETTE[6], "ssm": PALETTE[7], "conv": PALETTE[8]}
