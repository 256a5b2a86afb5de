"""Corrections to moto server for modelrun's tests.

Python imports this module when moto server starts (the testkit puts this
folder on PYTHONPATH). Each correction is a place where moto answers
differently from AWS in a way the Rust SDK cannot read; each says what AWS
does. Nothing else of moto is changed.
"""

from moto.batch import models as _batch

_container_details = _batch.Job._container_details


def _container_details_as_aws(self):
    details = _container_details(self)
    # AWS: ContainerDetail.vcpus is an integer, and absent for jobs that give
    # their vCPU as a resource requirement (every Fargate job). moto: a float
    # taken from the requirement (0.5), which the SDK refuses to read.
    vcpus = details.get("vcpus")
    if isinstance(vcpus, float):
        if vcpus.is_integer():
            details["vcpus"] = int(vcpus)
        else:
            del details["vcpus"]
    return details


_batch.Job._container_details = _container_details_as_aws
