//! The 16 alcaldías as SVG paths for the server-rendered choropleth maps, projected once from
//! the bundled boundaries (`app/data/alcaldias.geojson`: INEGI Marco Geoestadístico, simplified;
//! "Fuente: INEGI" is shown under every map).

use std::sync::LazyLock;

use serde::Deserialize;

use crate::coverage::dto::{MapShape, ShapeSet};

const GEOJSON: &str = include_str!("../../data/alcaldias.geojson");
/// Width of the drawing in SVG units; the height follows the city's shape.
const WIDTH: f64 = 600.0;

#[derive(Deserialize)]
struct Collection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: Properties,
    geometry: Geometry,
}

#[derive(Deserialize)]
struct Properties {
    cvegeo: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
enum Geometry {
    Polygon(Vec<Vec<[f64; 2]>>),
    MultiPolygon(Vec<Vec<Vec<[f64; 2]>>>),
}

impl Geometry {
    fn rings(&self) -> Vec<&Vec<[f64; 2]>> {
        match self {
            Geometry::Polygon(rings) => rings.iter().collect(),
            Geometry::MultiPolygon(polygons) => polygons.iter().flatten().collect(),
        }
    }
}

static SHAPES: LazyLock<ShapeSet> =
    LazyLock::new(|| project(GEOJSON).expect("the bundled boundaries parse"));

/// The boroughs' outlines (by INEGI code) in one drawing.
pub fn boroughs() -> &'static ShapeSet {
    &SHAPES
}

/// An equirectangular projection scaled by the cosine of the mean latitude (true to shape at
/// this size), north up, `WIDTH` units wide.
fn project(geojson: &str) -> Result<ShapeSet, serde_json::Error> {
    let collection: Collection = serde_json::from_str(geojson)?;
    let points = || {
        collection
            .features
            .iter()
            .flat_map(|f| f.geometry.rings())
            .flatten()
    };
    let (mut west, mut east, mut south, mut north) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &[lon, lat] in points() {
        west = west.min(lon);
        east = east.max(lon);
        south = south.min(lat);
        north = north.max(lat);
    }
    let squeeze = ((south + north) / 2.0).to_radians().cos();
    let scale = WIDTH / ((east - west) * squeeze);
    let height = ((north - south) * scale).ceil();
    let shapes = collection
        .features
        .iter()
        .map(|f| {
            let mut d = String::new();
            for ring in f.geometry.rings() {
                for (i, &[lon, lat]) in ring.iter().enumerate() {
                    let x = (lon - west) * squeeze * scale;
                    let y = (north - lat) * scale;
                    d.push_str(&format!("{}{x:.1} {y:.1}", if i == 0 { "M" } else { "L" }));
                }
                d.push('Z');
            }
            MapShape {
                code: f.properties.cvegeo.clone(),
                d,
            }
        })
        .collect();
    Ok(ShapeSet {
        width: WIDTH as u32,
        height: height as u32,
        shapes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixteen_boroughs_fit_the_drawing() {
        let set = boroughs();
        assert_eq!(set.shapes.len(), 16);
        assert_eq!(set.width, 600);
        assert!((700..900).contains(&set.height), "{}", set.height);
        let mut codes: Vec<&str> = set.shapes.iter().map(|s| s.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 16);
        assert!(codes.iter().all(|c| c.starts_with("09")));
        for s in &set.shapes {
            assert!(s.d.starts_with('M') && s.d.ends_with('Z'));
            for n in s.d.split(['M', 'L', 'Z', ' ']).filter(|n| !n.is_empty()) {
                let v: f64 = n.parse().unwrap();
                assert!(
                    (0.0..=f64::from(set.height)).contains(&v),
                    "{v} outside the drawing"
                );
            }
        }
    }
}
