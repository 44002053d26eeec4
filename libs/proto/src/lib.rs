//! Generated code for the Rapport schema (`proto/`), one module per package.
//!
//! Prost types stay at the gRPC edge: services convert them into their own domain types.

// Generated code follows prost's and tonic's conventions, not our lints. The modules mirror the
// packages (`rapport.profiles.v1` → `profiles::v1`, the crate root standing for `rapport`), which
// the generated cross-package paths (`super::super::common::v1`) rely on.
macro_rules! package {
    ($name:ident, $package:literal) => {
        pub mod $name {
            #[allow(
                unused_qualifications,
                missing_debug_implementations,
                clippy::all,
                clippy::pedantic
            )]
            pub mod v1 {
                tonic::include_proto!($package);
            }
        }
    };
}

pub mod codec;

package!(common, "rapport.common.v1");
package!(profiles, "rapport.profiles.v1");
package!(plans, "rapport.plans.v1");
package!(referrals, "rapport.referrals.v1");
package!(loyalty, "rapport.loyalty.v1");
package!(audit, "rapport.audit.v1");
package!(desk, "rapport.desk.v1");

/// The encoded `FileDescriptorSet` of every Rapport proto file, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/rapport_descriptor.bin"));

#[cfg(test)]
mod tests {
    use prost::Message;

    #[test]
    fn the_descriptor_set_holds_every_package() {
        let set = prost_types::FileDescriptorSet::decode(super::FILE_DESCRIPTOR_SET)
            .expect("descriptor set decodes");
        let mut packages: Vec<_> = set.file.iter().filter_map(|f| f.package.clone()).collect();
        packages.sort();
        packages.dedup();
        for package in [
            "rapport.common.v1",
            "rapport.profiles.v1",
            "rapport.plans.v1",
            "rapport.referrals.v1",
            "rapport.loyalty.v1",
            "rapport.audit.v1",
            "rapport.desk.v1",
        ] {
            assert!(packages.iter().any(|p| p == package), "{package} missing");
        }
    }
}
