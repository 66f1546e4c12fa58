// noise_map: a frame's noise map (NoiseProfile::map) as the bytes of a DNG's
// DNGPrivateData tag, and back: what lets a merged burst written as a DNG be
// denoised later as it would have been at once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "obscura/raw_image.h"

namespace obscura {

// Whether the profile carries a map to use: points that fill its grid, and a
// step of at least a pixel (what the denoise and the DNG's tag both take).
bool has_noise_map(const NoiseProfile& noise);

// "obscura\0NoiseMap", version 1, then (little-endian) the grid's width and
// height (uint32), step and origin (float64, raw pixels), and one byte per
// point: the variance multiple as 2^(byte / 32). A grid with more points
// than libtiff lets the tag hold (65,535 bytes in all) is stored coarser:
// every k-th point, each the largest of the k x k it stands for. Empty when
// the profile has no map.
std::vector<uint8_t> noise_map_private_data(const NoiseProfile& noise);

// The map from a DNGPrivateData tag's bytes, into `noise`; false (and
// `noise` untouched) when the bytes are not such a map or do not add up.
bool read_noise_map_private_data(const uint8_t* data, size_t size, NoiseProfile& noise);

}  // namespace obscura
