"""Build script of rdk_classifier (ament_python)."""

from glob import glob

from setuptools import find_packages, setup

package_name = 'rdk_classifier'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={package_name: ['data/*', 'data/samples/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='rdk_classifier developers',
    maintainer_email='rdk-classifier@example.com',
    description='ROS 2 image classification node for the RDK Model Zoo classifiers.',
    license='Apache-2.0',
    # colcon picks pytest from either: tests_require (Humble's setuptools) or extras_require.
    tests_require=['pytest'],
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'classifier_node = rdk_classifier.ros.main:main',
            'classifier_lifecycle_node = rdk_classifier.ros.main:main_managed',
            'camera_sim = rdk_classifier.programs.camera_sim:main',
            'hbm_camera_sim = rdk_classifier.programs.hbm_camera_sim:main',
            'demo = rdk_classifier.programs.demo:main',
            'download = rdk_classifier.programs.download:main',
            'evaluate = rdk_classifier.programs.evaluate:main',
            'export_onnx = rdk_classifier.programs.export_onnx:main',
        ],
    },
)
