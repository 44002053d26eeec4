//! Generated code for the Rapport schema (`proto/`), one module per package.
//!
//! Prost types stay at the gRPC edge: services convert them into their own domain types.

// Generated code follows prost's and tonic's conventions, not our lints.
macro_rules! generated {
    ($package:literal) => {
        #[allow(
            unused_qualifications,
            missing_debug_implementations,
            clippy::all,
            clippy::pedantic
        )]
        mod generated {
            tonic::include_proto!($package);
        }
        pub use generated::*;
    };
}

pub mod common {
    pub mod v1 {
        generated!("rapport.common.v1");
    }
}

pub mod profiles {
    pub mod v1 {
        generated!("rapport.profiles.v1");
    }
}

pub mod plans {
    pub mod v1 {
        generated!("rapport.plans.v1");
    }
}

pub mod referrals {
    pub mod v1 {
        generated!("rapport.referrals.v1");
    }
}

pub mod loyalty {
    pub mod v1 {
        generated!("rapport.loyalty.v1");
    }
}

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
        ] {
            assert!(packages.iter().any(|p| p == package), "{package} missing");
        }
    }
}
